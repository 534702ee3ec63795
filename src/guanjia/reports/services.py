"""Every write to periodic reports: generate a draft, edit its commentary, submit (freeze) it."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.history import record_change, snapshot
from guanjia.org.permissions import can

from .choices import ReportStatus
from .metrics import Period
from .models import Report
from .periodic import last_finished, plan, scope_objects, scope_of_report

COMMENTARY_MAX = 20000


def do_generate_report(kind: str, level: str, scope_id: int, period: Period) -> tuple[Report, bool]:
    """The draft of (kind, scope, period), created once: (report, created). An existing report,
    draft or submitted, is returned as it is, so a job that runs twice or late changes nothing."""
    existing = Report.objects.filter(
        kind=kind, scope_level=level, scope_id=scope_id, period_start=period.start, period_end=period.end
    ).first()
    if existing is not None:
        return existing, False
    name = scope_of_report(level, scope_id).name
    try:
        with transaction.atomic():
            report = Report.objects.create(
                kind=kind,
                scope_level=level,
                scope_id=scope_id,
                scope_name=name,
                period_start=period.start,
                period_end=period.end,
                generated_at=timezone.now(),
            )
    except IntegrityError:
        # Another worker created it in the meantime: the unique constraint keeps one.
        report = Report.objects.get(
            kind=kind, scope_level=level, scope_id=scope_id, period_start=period.start, period_end=period.end
        )
        return report, False
    record_change(report, None, source="worker")
    return report, True


def do_generate_due_reports(today: date | None = None) -> list[Report]:
    """Drafts of the periods that have ended, for every scope of the plan; returns those created."""
    today = today or timezone.localdate()
    created = []
    for kind, levels in plan().items():
        period = last_finished(kind, today)
        for level in levels:
            for scope_id in scope_objects(level).values_list("pk", flat=True):
                report, new = do_generate_report(kind, level, scope_id, period)
                if new:
                    created.append(report)
    return created


def _check_writable(user, report: Report) -> None:
    if not can(user, "report", "submit"):
        raise PermissionDenied
    if report.status != ReportStatus.DRAFT:
        raise ValidationError({"status": _("This report has been submitted and can no longer be changed.")})


def do_update_commentary(user, report: Report, commentary: str) -> Report:
    """Save the commentary of a draft; `user` must have read it through `queries.access_report_by_id`."""
    _check_writable(user, report)
    commentary = (commentary or "").strip()
    if len(commentary) > COMMENTARY_MAX:
        raise ValidationError(
            {"commentary": _("The commentary may be at most %(count)s characters long.") % {"count": COMMENTARY_MAX}}
        )
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        _check_writable(user, report)
        before = snapshot(report)
        report.commentary = commentary
        if report.author_id is None:
            report.author = user
        report.save(update_fields=["commentary", "author"])
        record_change(report, user, before)
    return report


def do_submit_report(user, report: Report, commentary: str | None = None) -> Report:
    """Freeze the figures as they are now into the snapshot and mark the report submitted."""
    from .periodic import report_data

    if commentary is not None:
        report = do_update_commentary(user, report, commentary)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        _check_writable(user, report)
        before = snapshot(report)
        period = Period(report.period_start, report.period_end)
        report.snapshot = report_data(report.kind, report.scope_level, report.scope_id, period)
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = timezone.now()
        report.author = user
        report.save(update_fields=["snapshot", "status", "submitted_at", "author"])
        record_change(report, user, before)
    return report
