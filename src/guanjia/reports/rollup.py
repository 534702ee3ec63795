"""The daily roll-up of the request figures (`DailyCaseStats`): counted by the worker, read by the dashboards.

A group dashboard shows twelve months of trends, the category mix and the hot spots of up to nine
periods: counted from the requests, that reads most of the requests table (seconds at 1,000,000
requests). The roll-up keeps, per Beijing day, project and category, the counts of every scan of
`metrics` (`metrics.scan_plans`: the same rows, date fields and aggregates `compute` uses, so a
figure is still defined once), and dashboards add up days instead of requests
(`metrics.compute(…, rollup=True)`).

What a row means: the requests received that day, the requests closed that day, the follow-ups
created that day and those answered that day, counted as they stood at the last run
(`DailyCaseStatsState.counted_at`); a deadline not yet met is judged at that moment, and the
closing rate counts requests closed by then. Readers take from here only the days before the
Beijing date of that run, and only while it is recent (`metrics.rollup_counted_at`); that day and
everything after it is counted from the requests.

How it stays right: `refresh_case_stats` runs every five minutes (`tasks.py`) and recounts whole
days: every row of a day is deleted and written again in one transaction, keyed on (day, project,
category), so a run repeated, late, or on two workers at once (the second waits for the state
row's lock) leaves the same rows. The days recounted are those touched since the previous run,
less `MARGIN` for transactions still open then:

* the days a changed request was received and closed (every service that changes a request saves
  it, so its `updated_at` moves), the days of its earlier closings (a reopening empties
  `closed_at`; the timeline keeps when it was closed) and the days its follow-ups were created
  and answered;
* the days of follow-ups created or answered since;
* the days of requests and follow-ups whose deadline passed since, still unmet: "first response
  missed" and its like change at that moment without any write.

A full count (`guanjia rebuild_case_stats`, and nightly) recounts every day: after loading
requests in bulk or editing them in the database by hand, which no `updated_at` shows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from guanjia.cases.choices import CaseStatus, EventKind
from guanjia.cases.models import Case, CaseEvent, FollowUp
from guanjia.estate.models import Unit

from .metrics import SCAN_PARTS, TZ, ReportScope, midnight, scan_plans
from .models import DailyCaseStats, DailyCaseStatsState

logger = logging.getLogger(__name__)

# How far before the previous run's moment changes are looked for: a request saved just before it
# by a transaction that committed after it carries an `updated_at` older than the run.
MARGIN = timedelta(minutes=10)
# More separate stretches of days than this are recounted as a whole (one scan without a long OR).
MAX_RANGES = 60
BATCH = 2000


@dataclass(frozen=True)
class RefreshResult:
    full: bool
    days: int
    rows: int
    seconds: float
    counted_at: datetime


def refresh_case_stats(*, full: bool = False, now: datetime | None = None) -> RefreshResult:
    """Recount the days touched since the last run (all days with `full`, or on the first run)."""
    started = time.perf_counter()
    with transaction.atomic():
        DailyCaseStatsState.objects.bulk_create([DailyCaseStatsState(pk=1)], ignore_conflicts=True)
        state = DailyCaseStatsState.objects.select_for_update().get(pk=1)
        # Taken once the lock is held: a run that waited for another counts after it.
        now = now or timezone.now()
        days = None if full or state.counted_at is None else touched_days(state.counted_at - MARGIN, now)
        if days is not None and len(_ranges(days)) > MAX_RANGES:
            days = None
        rows, counted_days = _recount(days, now)
        state.counted_at = now
        if days is None:
            state.rebuilt_at = now
        state.days = counted_days
        state.seconds = round(time.perf_counter() - started, 3)
        state.save()
    result = RefreshResult(days is None, counted_days, rows, state.seconds, now)
    logger.info("daily case stats: %s days, %s rows, %.1f s, full: %s", result.days, rows, result.seconds, result.full)
    return result


def touched_days(since: datetime, now: datetime) -> set[date]:
    """The Beijing days whose rows may have changed between `since` and `now` (see the module docstring)."""
    days: set[date] = set()

    def collect(rows: QuerySet, *date_fields: str) -> None:
        for name in date_fields:
            found = rows.filter(**{f"{name}__isnull": False}).annotate(gj_day=TruncDate(name, tzinfo=TZ))
            days.update(found.order_by().values_list("gj_day", flat=True).distinct())

    changed = Case.objects.filter(updated_at__gte=since)
    collect(changed, "received_at", "closed_at")
    collect(FollowUp.objects.filter(case__in=changed.values("pk")), "created_at", "done_at")
    # A reopening empties `closed_at`, but the day it was closed still counts it: the timeline says
    # when. The event is written a moment after `closed_at` is taken, so the day before as well.
    closings: set[date] = set()
    found = CaseEvent.objects.filter(case__in=changed.values("pk"), kind=EventKind.CLOSED)
    found = found.annotate(gj_day=TruncDate("time", tzinfo=TZ)).order_by().values_list("gj_day", flat=True)
    for day in found.distinct():
        closings.update((day, day - timedelta(days=1)))
    days.update(closings)
    collect(FollowUp.objects.filter(created_at__gte=since), "created_at", "done_at")
    collect(FollowUp.objects.filter(done_at__gte=since), "created_at", "done_at")
    # Deadlines that passed unmet while the clock ran (the indexes of the SLA sweep find them).
    passed = {"gte": since, "lt": now}
    every_status = Q(status__in=CaseStatus.values)
    collect(
        Case.objects.filter(
            every_status,
            responded_at__isnull=True,
            paused_since__isnull=True,
            **{f"response_due__{op}": moment for op, moment in passed.items()},
        ),
        "received_at",
    )
    collect(
        Case.objects.filter(
            replied_at__isnull=True,
            closed_at__isnull=True,
            paused_since__isnull=True,
            **{f"reply_due__{op}": moment for op, moment in passed.items()},
        ),
        "received_at",
    )
    collect(
        FollowUp.objects.filter(done_at__isnull=True, **{f"due__{op}": moment for op, moment in passed.items()}),
        "created_at",
    )
    return days


def _ranges(days) -> list[tuple[date, date]]:
    """Runs of consecutive days as [first, end) pairs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def _recount(days: set[date] | None, now: datetime) -> tuple[int, int]:
    """Delete and write again the rows of `days` (every day with None); (rows written, days)."""
    everything = ReportScope(cases=Case.objects.all(), units=Unit.objects.none(), restricted=False)
    counted: dict[tuple, dict] = {}
    within = Q(pk__in=[])
    for plan in scan_plans(everything, closing_end=None, now=now, parts=SCAN_PARTS, percentile=False):
        rows = plan.rows.filter(**{f"{plan.date_field}__isnull": False})
        if days is not None:
            within = Q(pk__in=[])
            for first, end in _ranges(days):
                within |= Q(**{f"{plan.date_field}__gte": midnight(first), f"{plan.date_field}__lt": midnight(end)})
            rows = rows.filter(within)
        prefix = "case__" if plan.via_case else ""
        grouped = (
            rows.annotate(
                gj_day=TruncDate(plan.date_field, tzinfo=TZ),
                gj_project=F(f"{prefix}project_id"),
                gj_category=F(f"{prefix}category_id"),
            )
            .values("gj_day", "gj_project", "gj_category")
            .annotate(**plan.aggregates)
            .order_by()
        )
        for row in grouped.iterator(chunk_size=BATCH):
            key = (row.pop("gj_day"), row.pop("gj_project"), row.pop("gj_category"))
            # Each scan fills its own columns of the row.
            counted.setdefault(key, {}).update({name: value or 0 for name, value in row.items()})
    if days is None:
        DailyCaseStats.objects.all().delete()
        counted_days = len({key[0] for key in counted})
    else:
        ordered = sorted(days)
        for i in range(0, len(ordered), 500):
            DailyCaseStats.objects.filter(day__in=ordered[i : i + 500]).delete()
        counted_days = len(days)
    DailyCaseStats.objects.bulk_create(
        (
            DailyCaseStats(day=day, project_id=project, category_id=category, **values)
            for (day, project, category), values in counted.items()
        ),
        batch_size=BATCH,
    )
    return len(counted), counted_days
