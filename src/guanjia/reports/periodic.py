"""Periodic reports: their periods, what each one counts, and the figures they show.

Every figure comes from `metrics.compute`; this module only decides the period and the scope and
turns the result into plain data (`report_data`), which is what a submitted report freezes and what
the page, the xlsx and the PDF print.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from guanjia.cases.models import Case
from guanjia.core.db_router import replica_reads
from guanjia.estate.models import Unit
from guanjia.org.models import Area, Company, Project

from .choices import ReportKind, ReportScopeLevel
from .metrics import Period, ReportScope, compute
from .queries import CHILD_BREAKDOWN, narrow_to_area

# Which reports the worker drafts for which scopes. Override with GUANJIA_REPORT_PLAN.
DEFAULT_PLAN = {
    ReportKind.WEEKLY: (ReportScopeLevel.AREA,),
    ReportKind.HALF_MONTHLY: (ReportScopeLevel.PROJECT,),
    ReportKind.MONTHLY: (ReportScopeLevel.COMPANY, ReportScopeLevel.PROJECT),
    ReportKind.QUARTERLY: (ReportScopeLevel.COMPANY,),
    ReportKind.ANNUAL: (ReportScopeLevel.COMPANY,),
}
TOP_CATEGORIES = 10


def plan() -> dict[str, tuple[str, ...]]:
    return getattr(settings, "GUANJIA_REPORT_PLAN", DEFAULT_PLAN)


def monthly_cutoff() -> int:
    """The last day of a monthly report's period (GUANJIA_MONTHLY_REPORT_CUTOFF_DAY); 0 = calendar month."""
    return int(getattr(settings, "GUANJIA_MONTHLY_REPORT_CUTOFF_DAY", 0) or 0)


def _after_cutoff(year: int, month: int, cutoff: int) -> date:
    """The day after the cut-off in a month; a cut-off past the month's end is its last day."""
    if month == 0:
        year, month = year - 1, 12
    elif month == 13:
        year, month = year + 1, 1
    day = min(cutoff, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=1)


def period_of(kind: str, day: date) -> Period:
    """The period of a report of `kind` that holds `day`.

    weekly: Monday–Sunday; half-monthly: the 1st–15th or the 16th–end of a month; monthly: the
    calendar month, or with a cut-off day d the (d+1)th of the month before up to the dth (a
    report "of November" with d = 25 runs 10-26 … 11-25); quarterly and annual: calendar ones.
    """
    if kind == ReportKind.WEEKLY:
        return Period.of("week", day)
    if kind == ReportKind.HALF_MONTHLY:
        month = Period.of("month", day)
        middle = day.replace(day=16)
        return Period(month.start, middle) if day < middle else Period(middle, month.end)
    if kind == ReportKind.MONTHLY:
        cutoff = monthly_cutoff()
        if not cutoff:
            return Period.of("month", day)
        end = _after_cutoff(day.year, day.month, cutoff)
        if day >= end:
            return Period(end, _after_cutoff(day.year, day.month + 1, cutoff))
        return Period(_after_cutoff(day.year, day.month - 1, cutoff), end)
    if kind == ReportKind.QUARTERLY:
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(first, Period.of("month", first).shift("month", 3).start)
    if kind == ReportKind.ANNUAL:
        return Period(date(day.year, 1, 1), date(day.year + 1, 1, 1))
    raise ValueError(kind)


def last_finished(kind: str, today: date) -> Period:
    """The latest period of `kind` that is over by `today` (its last day is before today)."""
    current = period_of(kind, today)
    return period_of(kind, current.start - timedelta(days=1))


def scope_objects(level: str):
    """Every company (not the group itself), project or area a report of `level` may be about."""
    if level == ReportScopeLevel.COMPANY:
        return Company.objects.filter(parent__isnull=False).order_by("pk")
    if level == ReportScopeLevel.PROJECT:
        return Project.objects.order_by("pk")
    if level == ReportScopeLevel.AREA:
        return Area.objects.select_related("project").order_by("pk")
    raise ValueError(level)


def scope_of_report(level: str, scope_id: int) -> ReportScope:
    """What a report counts: every request of its company, project or area (the author's own scope
    decides who may read it, not what it counts; see `queries.reports_for`)."""
    cases, units = Case.objects.all(), Unit.objects.all()
    if level == ReportScopeLevel.COMPANY:
        company = Company.objects.get(pk=scope_id)
        cases, units = cases.filter(project__company_id=scope_id), units.filter(project__company_id=scope_id)
        name = company.name
    elif level == ReportScopeLevel.PROJECT:
        project = Project.objects.get(pk=scope_id)
        cases, units = cases.filter(project_id=scope_id), units.filter(project_id=scope_id)
        name = project.name
    elif level == ReportScopeLevel.AREA:
        area = Area.objects.select_related("project").get(pk=scope_id)
        cases, units = narrow_to_area(cases, units, area)
        name = str(area)
    else:
        raise ValueError(level)
    return ReportScope(cases=cases, units=units, restricted=True, level=level, name=name)


@replica_reads()
def report_data(kind: str, level: str, scope_id: int, period: Period) -> dict:
    """The figures of one report as plain JSON data: what `Report.snapshot` freezes."""
    scope = scope_of_report(level, scope_id)
    breakdown = CHILD_BREAKDOWN[level]
    now = timezone.now()
    by_group = compute(scope, period, breakdown, now=now, top=TOP_CATEGORIES)
    # Complaints of the period by category: what a complaint report is about.
    complaints = ReportScope(
        cases=scope.cases.filter(case_type="complaint"), units=scope.units, level=level, name=scope.name
    )
    by_category = compute(complaints, period, "category_root", now=now, top=0, parts={"received", "closed"})
    return {
        "version": 1,
        "kind": kind,
        "scope": {"level": level, "id": scope_id, "name": scope.name},
        "period": {**period.as_dict(), "label": period.label()},
        "counted_at": now.isoformat(),
        "figures": by_group.as_dict(),
        "complaints_by_category": [g.as_dict() for g in by_category.groups],
    }
