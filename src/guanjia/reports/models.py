"""Periodic reports (a draft generated after its period ends, then submitted and frozen) and the
case collection (典型案例集: write-ups of typical requests, reviewed before they are published)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.cases.choices import CaseType

from .choices import CaseStudyStatus, CaseStudyStepKind, ReportKind, ReportScopeLevel, ReportStatus


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


TAG_SEPARATOR = "、"


class CaseStudy(models.Model):
    """A write-up of one typical request for the case collection (案例集): what happened, how it was
    handled, how it ended and what to learn from it.

    Created as a draft when someone marks a request as typical, with its text prefilled from the
    request (`casebook.prefill`; the customer's name masked, e.g. 李女士). From then on it is a text
    of its own: later changes of the request change nothing in it. Only `casebook` writes it: the
    author edits the draft and submits it, a reviewer publishes it or returns it with a comment, and
    every step is kept in `CaseStudyStep`. `version` grows with every change, so a stale edit is
    refused rather than overwriting someone else's. Readers see the studies of requests in their
    scope (`queries.case_studies_for`).
    """

    HISTORY_EXCLUDE = ("version",)

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("service request"), on_delete=models.PROTECT, related_name="case_study"
    )
    # Copied from the request when it is marked, so the collection files it where it happened.
    project = models.ForeignKey(
        "org.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="case_studies"
    )
    occurred_on = models.DateField(_("date of the request"))
    case_type = models.CharField(_("type"), max_length=12, choices=CaseType.choices)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_studies",
    )
    # The category as it was named when the study was last saved: a renamed category leaves it as written.
    category_path = models.CharField(_("category"), max_length=200, blank=True)
    unit_label = models.CharField(_("unit"), max_length=100, blank=True)
    customer_label = models.CharField(_("customer"), max_length=50, blank=True)
    title = models.CharField(_("title"), max_length=100)
    # Tags joined by "、" (重大投诉、渗漏), so a text search finds them on every database.
    tags = models.CharField(_("tags"), max_length=200, blank=True)
    background = models.TextField(_("background and what happened"), blank=True)
    handling = models.TextField(_("how it was handled"), blank=True)
    outcome = models.TextField(_("result"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CaseStudyStatus.choices, default=CaseStudyStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case study")
        verbose_name_plural = _("case studies")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            # The collection: published studies by date, narrowed by project.
            models.Index(fields=["status", "project", "-occurred_on"], name="casestudy_status_project"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(TAG_SEPARATOR) if t]


class CaseStudyStepQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Case study steps are immutable.")


class CaseStudyStep(models.Model):
    """One step of a case study's review: who did what, when, with which comment. Written once by
    `casebook` and never changed."""

    study = models.ForeignKey(CaseStudy, verbose_name=_("case study"), on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=10, choices=CaseStudyStepKind.choices)
    from_status = models.CharField(_("from"), max_length=10, choices=CaseStudyStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=CaseStudyStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    time = models.DateTimeField(_("time"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)

    objects = CaseStudyStepQuerySet.as_manager()

    class Meta:
        verbose_name = _("case study step")
        verbose_name_plural = _("case study steps")
        ordering = ["study_id", "time", "id"]

    def __str__(self) -> str:
        return f"{self.study_id} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Case study steps are immutable.")
        super().save(*args, **kwargs)


class DailyCaseStats(models.Model):
    """The counts of one Beijing day, project and category (as recorded), rolled up from the requests.

    The columns are the fields of `metrics.Tally` (households aside), each counted by the scan
    `metrics` defines for it and bucketed by that scan's own date: received-scan columns by
    `received_at`, closing columns by `closed_at`, follow-up columns by `FollowUp.created_at` and
    satisfaction by `FollowUp.done_at`. Deadlines that are not met yet are judged at `counted_at`
    of `DailyCaseStatsState`. Only `reports.rollup` writes these rows: it recounts whole days (every
    row of a day at once) when a request or follow-up of that day changed or one of its deadlines
    passed, so the rows hold the figures the requests had at the last run. Dashboards read the days
    before that run from here and count the rest from the requests (`metrics.compute(rollup=True)`).
    """

    day = models.DateField(_("day"))
    project = models.ForeignKey("org.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        "cases.Category", verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Received that day (`received_at`).
    received = models.PositiveIntegerField(default=0)
    received_closed = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    repeat_complaints = models.PositiveIntegerField(default=0)
    response_met = models.PositiveIntegerField(default=0)
    response_missed = models.PositiveIntegerField(default=0)
    reply_met = models.PositiveIntegerField(default=0)
    reply_missed = models.PositiveIntegerField(default=0)
    # Closed that day (`closed_at`).
    closed = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    resolution_missed = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    handling_cases = models.PositiveIntegerField(default=0)
    handling_total_minutes = models.PositiveBigIntegerField(default=0)
    # Follow-ups created that day (`FollowUp.created_at`).
    follow_ups = models.PositiveIntegerField(default=0)
    follow_up_met = models.PositiveIntegerField(default=0)
    follow_up_missed = models.PositiveIntegerField(default=0)
    # Follow-ups answered that day (`FollowUp.done_at`).
    satisfied = models.PositiveIntegerField(default=0)
    dissatisfied = models.PositiveIntegerField(default=0)
    unreachable = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily request figures")
        verbose_name_plural = _("daily request figures")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "project", "category"],
                condition=models.Q(category__isnull=False),
                name="dailycasestats_one_row",
            ),
            models.UniqueConstraint(
                fields=["day", "project"],
                condition=models.Q(category__isnull=True),
                name="dailycasestats_one_row_uncategorised",
            ),
        ]
        # Dashboards read a range of days; a recount deletes whole days.
        indexes = [models.Index(fields=["day", "project"], name="dailycasestats_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.project_id} {self.category_id}"


class DailyCaseStatsState(models.Model):
    """How far `DailyCaseStats` is: one row (pk 1), locked while the rows are recounted.

    `counted_at` is the moment of the last run: every day before its Beijing date holds the figures
    the requests had then. Empty until the first full count.
    """

    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    rebuilt_at = models.DateTimeField(_("last full count"), null=True, blank=True)
    days = models.PositiveIntegerField(_("days counted by the last run"), default=0)
    seconds = models.FloatField(_("duration of the last run (s)"), default=0)

    class Meta:
        verbose_name = _("daily figures state")
        verbose_name_plural = _("daily figures state")

    def __str__(self) -> str:
        return f"{self.counted_at}"
