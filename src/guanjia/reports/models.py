"""Periodic reports: a draft generated after its period ends, then submitted and frozen."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import ReportKind, ReportScopeLevel, ReportStatus


class Report(models.Model):
    """One report of one kind for one company, project or area and one period (Beijing dates, end exclusive).

    A draft shows the figures as they are now (`reports.periodic.report_data`). Submitting freezes
    them into `snapshot`: from then on every page, xlsx and PDF of the report is drawn from the
    snapshot alone, so later edits of requests change nothing in it. The worker creates drafts
    keyed on (kind, scope, period), so running it twice creates nothing twice.
    """

    HISTORY_EXCLUDE = ("snapshot",)

    kind = models.CharField(_("kind"), max_length=20, choices=ReportKind.choices)
    scope_level = models.CharField(_("scope"), max_length=10, choices=ReportScopeLevel.choices)
    # The id of the company, project or area (by `scope_level`); its name is kept for display.
    scope_id = models.PositiveIntegerField(_("scope id"))
    scope_name = models.CharField(_("scope name"), max_length=200)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end (exclusive)"))
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    commentary = models.TextField(_("commentary"), blank=True)
    snapshot = models.JSONField(_("snapshot"), null=True, blank=True, editable=False)
    generated_at = models.DateTimeField(_("generated at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-period_start", "kind", "scope_level", "scope_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "scope_level", "scope_id", "period_start", "period_end"], name="report_once_per_period"
            ),
        ]
        indexes = [models.Index(fields=["scope_level", "scope_id", "-period_start"], name="report_scope_idx")]

    def __str__(self) -> str:
        return f"{self.scope_name} {self.get_kind_display()} {self.period_start:%Y-%m-%d}"

    @property
    def period_last_day(self):
        return self.period_end - timedelta(days=1)

    @property
    def is_draft(self) -> bool:
        return self.status == ReportStatus.DRAFT
