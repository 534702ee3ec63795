"""The figures of service requests, each defined once and counted by the database.

Every dashboard, API answer, spreadsheet and PDF takes its numbers from `compute`, `snapshot` and
`hot_spots`; docs/reports.md states each definition, its date basis, numerator and denominator.

Inputs are a `ReportScope` (the cases and units a user may see, from `reports.queries`), a `Period`
of Beijing dates [start, end) and a breakdown key (`BREAKDOWNS`). Each figure is an aggregate over
one of four scans, chosen by the date the figure is about:

* received in the period (`Case.received_at`): received, closing rate, first-response and reply
  on-time rates, complaints, repeat complaints, top categories;
* closed in the period (`Case.closed_at`): closed, resolution on-time rate, handling time, reopen rate;
* follow-ups created in the period (`FollowUp.created_at`, i.e. closings of the period): follow-up
  completion within the policy;
* follow-ups answered in the period (`FollowUp.done_at`): satisfaction.

A scan is one SQL query: `COUNT(…) FILTER (WHERE …)` (a CASE inside COUNT on SQLite) per figure,
grouped by the breakdown key. Duplicates merged into another request are not counted anywhere. All
breakdowns partition the cases (a case belongs to one building: that of its first unit), so totals
are the sums of the groups' counts; only the 90th percentile needs its own query.

Dashboards read the days before today from a daily roll-up (`DailyCaseStats`, kept by
`reports.rollup` with these very scans and aggregates, one row per Beijing day, project and
category) and count only the rest from the requests: `compute(…, rollup=True)`, `hot_spots(…,
rollup=True)`. Every figure a scan adds up is a sum of daily counts, so the roll-up changes where
the counts are read, not what they are.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.cases.choices import OPEN_STATUSES, PAUSED_STATUSES, CaseStatus, CaseType, Channel, FollowUpOutcome
from guanjia.cases.models import Case, Category, FollowUp
from guanjia.core.db_router import replica_reads
from guanjia.estate.models import Building, Occupancy
from guanjia.org.models import Area, Company, Department, Project, Staff

from .models import DailyCaseStats, DailyCaseStatsState

TZ = ZoneInfo(settings.TIME_ZONE)

GRAINS = ("day", "week", "month")
# Breakdown keys: "none" (totals only), the organisation and places, what and how, who, and time.
BREAKDOWNS = (
    "none",
    "company",
    "project",
    "area",
    "building",
    "category",
    "category_root",
    "case_type",
    "channel",
    "department",
    "owner",
    "assignee",
    *GRAINS,
)
# Breakdowns by place: households are counted per group; otherwise every group shares the total.
SPATIAL = ("company", "project", "area", "building")
SLA_KINDS = ("response", "resolution", "reply", "follow_up")
PARTS = frozenset({"received", "closed", "follow_up", "satisfaction", "households"})
# A period may not be longer than this, nor be cut into more time buckets than MAX_BUCKETS.
MAX_DAYS = 5 * 366
MAX_BUCKETS = 120
# The percentile of handling time: 9/10, kept as a fraction so that SQLite's fallback stays exact.
PERCENTILE = (9, 10)


# --- periods -----------------------------------------------------------------------------------


def midnight(day: date) -> datetime:
    """The start of a Beijing day as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=TZ)


def _month_start(day: date, shift: int = 0) -> date:
    years, month = divmod(day.month - 1 + shift, 12)
    return date(day.year + years, month + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """Beijing dates from `start` up to, not including, `end`."""

    start: date
    end: date

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError("A period ends after it starts.")

    @classmethod
    def of(cls, grain: str, day: date) -> Period:
        """The day, week (Monday to Sunday) or calendar month holding `day`."""
        if grain == "day":
            return cls(day, day + timedelta(days=1))
        if grain == "week":
            monday = day - timedelta(days=day.weekday())
            return cls(monday, monday + timedelta(days=7))
        if grain == "month":
            return cls(_month_start(day), _month_start(day, 1))
        raise ValueError(grain)

    @classmethod
    def last(cls, grain: str, count: int, day: date) -> Period:
        """`count` whole days, weeks or months ending with the one holding `day`."""
        current = cls.of(grain, day)
        return cls(current.shift(grain, 1 - count).start, current.end)

    def shift(self, grain: str, n: int) -> Period:
        """The day, week or month `n` steps away from the one this period starts in."""
        if grain == "day":
            return Period.of("day", self.start + timedelta(days=n))
        if grain == "week":
            return Period.of("week", self.start + timedelta(weeks=n))
        return Period.of("month", _month_start(self.start, n))

    def buckets(self, grain: str) -> list[Period]:
        """This period cut at day, week or month boundaries (the first and last may be partial)."""
        result, start = [], self.start
        while start < self.end:
            end = min(Period.of(grain, start).end, self.end)
            result.append(Period(start, end))
            start = end
        return result

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return midnight(self.start), midnight(self.end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def label(self) -> str:
        """2025-11 for a calendar month, 2025-11-03 for a day, else 2025-11-03 – 2025-11-09."""
        if self.start.day == 1 and self.end == _month_start(self.start, 1):
            return f"{self.start:%Y-%m}"
        if self.days == 1:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.last_day.isoformat()}"

    def short_label(self, grain: str) -> str:
        """Axis labels of trend charts: 2025-11 (month), 11-03 (day or week start)."""
        return f"{self.start:%Y-%m}" if grain == "month" else f"{self.start:%m-%d}"

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


# --- inputs and results --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportScope:
    """What a report counts: cases (already scoped to the user, see `queries.report_scope_for`) and
    the units whose households are the denominator of complaints per 100 households.

    `restricted` is False only when `cases` is every case (group scope, nothing narrowed); follow-ups
    are then counted without re-checking their case against the scope. `projects` is set when
    `cases` is exactly every case of these projects (a company's or a project's reader, not a
    butler's areas nor a handler's own requests): the daily roll-up, kept per project, can then
    stand in for them.
    """

    cases: QuerySet
    units: QuerySet
    restricted: bool = True
    level: str = ""
    name: str = ""
    projects: frozenset[int] | None = None


@dataclass(frozen=True)
class Rate:
    """A share: `numerator` out of `denominator`; `value` is None when there is nothing to judge."""

    numerator: int = 0
    denominator: int = 0

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> float | None:
        return None if self.value is None else round(100 * self.value, 1)

    def as_dict(self) -> dict:
        value = self.value
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": None if value is None else round(value, 4),
        }


@dataclass
class Tally:
    """The raw counts of one group, straight from the scans; every field adds up across groups."""

    received: int = 0
    received_closed: int = 0
    complaints: int = 0
    repeat_complaints: int = 0
    response_met: int = 0
    response_missed: int = 0
    reply_met: int = 0
    reply_missed: int = 0
    closed: int = 0
    resolution_met: int = 0
    resolution_missed: int = 0
    reopened: int = 0
    handling_cases: int = 0
    handling_total_minutes: int = 0
    follow_ups: int = 0
    follow_up_met: int = 0
    follow_up_missed: int = 0
    satisfied: int = 0
    dissatisfied: int = 0
    unreachable: int = 0
    households: int = 0

    def add(self, values: dict) -> None:
        for name, value in values.items():
            setattr(self, name, getattr(self, name) + (value or 0))

    def __add__(self, other: Tally) -> Tally:
        return Tally(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@dataclass
class Figures:
    """The figures of one group (or the total): what templates, the API, xlsx and PDF show."""

    key: Any
    label: str
    tally: Tally
    handling_p90_minutes: float | None = None
    # False when households are not counted per group (non-spatial breakdowns share the total).
    households_known: bool = True

    @property
    def received(self) -> int:
        return self.tally.received

    @property
    def closed(self) -> int:
        return self.tally.closed

    @property
    def complaints(self) -> int:
        return self.tally.complaints

    @property
    def closing_rate(self) -> Rate:
        return Rate(self.tally.received_closed, self.tally.received)

    @property
    def on_time(self) -> dict[str, Rate]:
        t = self.tally
        return {
            "response": Rate(t.response_met, t.response_met + t.response_missed),
            "resolution": Rate(t.resolution_met, t.resolution_met + t.resolution_missed),
            "reply": Rate(t.reply_met, t.reply_met + t.reply_missed),
            "follow_up": Rate(t.follow_up_met, t.follow_up_met + t.follow_up_missed),
        }

    @property
    def follow_up_completion(self) -> Rate:
        """Follow-ups done within the policy: the follow-up on-time rate."""
        return self.on_time["follow_up"]

    @property
    def satisfaction(self) -> Rate:
        return Rate(self.tally.satisfied, self.tally.satisfied + self.tally.dissatisfied)

    @property
    def reopen_rate(self) -> Rate:
        return Rate(self.tally.reopened, self.tally.closed)

    @property
    def repeat_complaint_rate(self) -> Rate:
        return Rate(self.tally.repeat_complaints, self.tally.complaints)

    @property
    def handling_avg_hours(self) -> float | None:
        t = self.tally
        return round(t.handling_total_minutes / t.handling_cases / 60, 2) if t.handling_cases else None

    @property
    def handling_p90_hours(self) -> float | None:
        return None if self.handling_p90_minutes is None else round(self.handling_p90_minutes / 60, 2)

    @property
    def households(self) -> int | None:
        return self.tally.households if self.households_known else None

    @property
    def complaints_per_100_households(self) -> float | None:
        households = self.tally.households
        return round(100 * self.tally.complaints / households, 2) if households else None

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "received": self.received,
            "closed": self.closed,
            "closing_rate": self.closing_rate.as_dict(),
            "on_time": {kind: rate.as_dict() for kind, rate in self.on_time.items()},
            "handling": {
                "cases": self.tally.handling_cases,
                "avg_hours": self.handling_avg_hours,
                "p90_hours": self.handling_p90_hours,
            },
            "satisfaction": self.satisfaction.as_dict(),
            "follow_ups": {
                "created": self.tally.follow_ups,
                "unreachable": self.tally.unreachable,
            },
            "reopen_rate": self.reopen_rate.as_dict(),
            "complaints": self.complaints,
            "repeat_complaint_rate": self.repeat_complaint_rate.as_dict(),
            "households": self.households,
            "complaints_per_100_households": self.complaints_per_100_households,
        }


@dataclass(frozen=True)
class CategoryCount:
    key: int | None
    label: str
    received: int
    share: Rate

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "received": self.received, "share": self.share.as_dict()}


@dataclass
class Report:
    period: Period
    breakdown: str
    total: Figures
    groups: list[Figures] = field(default_factory=list)
    top_categories: list[CategoryCount] = field(default_factory=list)
    generated_at: datetime | None = None

    def as_dict(self) -> dict:
        return {
            "period": self.period.as_dict(),
            "breakdown": self.breakdown,
            "generated_at": self.generated_at.isoformat() if self.generated_at else None,
            "total": self.total.as_dict(),
            "groups": [g.as_dict() for g in self.groups],
            "top_categories": [c.as_dict() for c in self.top_categories],
        }


@dataclass
class Snapshot:
    """Where things stand now (not a period): the work queue of one group."""

    key: Any
    label: str
    received_today: int = 0
    open: int = 0
    suspended: int = 0
    overdue: int = 0
    response_overdue: int = 0
    follow_ups_pending: int = 0
    follow_ups_overdue: int = 0

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class HotSpot:
    """A building or category whose count this period is far above its own recent history."""

    key: Any
    label: str
    count: int
    mean: float
    stddev: float

    @property
    def excess(self) -> float:
        return round(self.count - self.mean, 1)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "mean": self.mean,
            "stddev": self.stddev,
        }


# --- grouping ----------------------------------------------------------------------------------

_FIELD_OF = {
    "company": "project__company_id",
    "project": "project_id",
    "category": "category_id",
    "case_type": "case_type",
    "channel": "channel",
    "department": "department_id",
    "owner": "owner_id",
    "assignee": "assignee_id",
}
_UNIT_FIELD_OF = {
    "company": "project__company_id",
    "project": "project_id",
    "area": "building__area_id",
    "building": "building_id",
}


def _bucket(field_name: str, buckets: list[Period], *, dates: bool = False):
    """The index of the bucket a datetime (or, with `dates`, a Beijing date) falls in (rows outside
    all buckets are filtered out before)."""
    whens = [
        When(**{f"{field_name}__gte": bucket.start if dates else bucket.bounds[0]}, then=Value(i))
        for i, bucket in reversed(list(enumerate(buckets)))
    ]
    return SqlCase(*whens, default=Value(None), output_field=IntegerField())


def _group(breakdown: str, *, prefix: str = "", case_ref: str = "pk", date_field: str = "", buckets=None):
    """The SQL expression of a case's group; `prefix` reaches the case from a follow-up ("case__")."""
    if breakdown == "none":
        return None
    if breakdown in GRAINS:
        return _bucket(date_field, buckets)
    if breakdown in _FIELD_OF:
        return F(prefix + _FIELD_OF[breakdown])
    if breakdown == "category_root":
        # The top of the category tree (up to four levels deep, as the default tree is three).
        return Coalesce(
            F(f"{prefix}category__parent__parent__parent_id"),
            F(f"{prefix}category__parent__parent_id"),
            F(f"{prefix}category__parent_id"),
            F(f"{prefix}category_id"),
        )
    if breakdown in ("building", "area"):
        # A case counts once, at its first unit (the lowest unit id: the order of the (case, unit)
        # index, so each look-up reads one index entry and sorts nothing); cases without units form
        # the group None. A join instead would count a case on two buildings twice.
        path = "unit__building_id" if breakdown == "building" else "unit__building__area_id"
        first = Case.units.through.objects.filter(case_id=OuterRef(case_ref)).order_by("unit_id").values(path)[:1]
        return Subquery(first, output_field=IntegerField())
    raise ValueError(breakdown)


def _scan(queryset: QuerySet, group, aggregates: dict) -> dict[Any, dict]:
    """One aggregate query: {group key: {name: value}} (key None when there is no breakdown)."""
    queryset = queryset.order_by()
    if group is None:
        return {None: queryset.aggregate(**aggregates)}
    rows = queryset.annotate(grp=group).values("grp").annotate(**aggregates).order_by()
    return {row.pop("grp"): row for row in rows}


def _scan_by_company(queryset: QuerySet, aggregates: dict) -> dict[Any, dict]:
    """`_scan` by city company for counts that add up: counted per project, then the few project rows
    summed per company. For counts over most of the table (the open queue): grouping by
    `project__company_id` directly makes PostgreSQL join every counted row to its project, which
    doubled the time of the open-queue count. Small counts keep the join, which lets the planner
    read each project's part of an index (bench/README.md)."""
    inner = queryset.order_by().annotate(gj_project=F("project_id")).values("gj_project").annotate(**aggregates)
    sql, params = inner.order_by().query.sql_with_params()
    connection = connections[queryset.db]
    qn = connection.ops.quote_name
    sums = ", ".join(f"SUM(x.{qn(name)})" for name in aggregates)
    outer = (
        f"SELECT p.company_id, {sums} FROM ({sql}) AS x "  # noqa: S608
        f"INNER JOIN {qn(Project._meta.db_table)} AS p ON p.id = x.gj_project GROUP BY p.company_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        rows = cursor.fetchall()
    return {row[0]: {name: int(value or 0) for name, value in zip(aggregates, row[1:], strict=True)} for row in rows}


def _labels(breakdown: str, keys, buckets=None) -> dict[Any, str]:
    """Display names of group keys, one query per breakdown (none for choices and time)."""
    keys = [k for k in keys if k is not None]
    if breakdown in GRAINS:
        return {k: buckets[k].short_label(breakdown) for k in keys}
    if breakdown == "case_type":
        return {k: str(CaseType(k).label) if k in CaseType.values else k for k in keys}
    if breakdown == "channel":
        return {k: str(Channel(k).label) if k in Channel.values else k for k in keys}
    if breakdown == "company":
        return {c.pk: c.short_name or c.name for c in Company.objects.filter(pk__in=keys)}
    if breakdown == "project":
        return dict(Project.objects.filter(pk__in=keys).values_list("pk", "name"))
    if breakdown == "area":
        return {a.pk: str(a) for a in Area.objects.filter(pk__in=keys).select_related("project")}
    if breakdown == "building":
        return {b.pk: str(b) for b in Building.objects.filter(pk__in=keys).select_related("project")}
    if breakdown in ("category", "category_root"):
        return {c.pk: c.path for c in Category.objects.filter(pk__in=keys).select_related("parent__parent__parent")}
    if breakdown == "department":
        return dict(Department.objects.filter(pk__in=keys).values_list("pk", "name"))
    if breakdown in ("owner", "assignee"):
        return {s.pk: str(s) for s in Staff.objects.filter(pk__in=keys)}
    return {}


def none_label(breakdown: str) -> str:
    """The name of the group of cases without a value (no building, nobody assigned, …)."""
    return {
        "area": _("No area"),
        "building": _("No unit"),
        "category": _("No category"),
        "category_root": _("No category"),
        "department": _("No department"),
        "assignee": _("Not assigned"),
    }.get(breakdown, _("Unknown"))


# --- the aggregates of each scan -----------------------------------------------------------------


def _received_aggregates(end: datetime | None, now: datetime) -> dict:
    """Cases received in the period. First response and reply are judged once met, done late, or overdue.

    A deadline still ahead, or one that has passed while the case is suspended (its clock stands
    still; resuming moves the deadline), is pending and left out of both numerator and denominator.
    The closing rate counts the cases closed before `end`, the end of the period; the roll-up, which
    only serves periods still running, passes None: closed so far.
    """
    running = Q(paused_since__isnull=True)
    response_missed = Q(response_due__isnull=False) & (
        Q(responded_at__gt=F("response_due")) | (Q(responded_at__isnull=True, response_due__lt=now) & running)
    )
    # The customer has their answer with a reply (a note visible to them) or with the closing.
    reply_met = Q(replied_at__lte=F("reply_due")) | Q(closed_at__lte=F("reply_due"))
    reply_late = (Q(replied_at__isnull=True) | Q(replied_at__gt=F("reply_due"))) & (
        Q(closed_at__isnull=True) | Q(closed_at__gt=F("reply_due"))
    )
    reply_decided = Q(replied_at__isnull=False) | Q(closed_at__isnull=False) | (Q(reply_due__lt=now) & running)
    complaint = Q(case_type=CaseType.COMPLAINT)
    return {
        "received": Count("pk"),
        "received_closed": Count("pk", filter=Q(closed_at__lt=end) if end else Q(closed_at__isnull=False)),
        "complaints": Count("pk", filter=complaint),
        "repeat_complaints": Count("pk", filter=complaint & Q(repeat_of__isnull=False)),
        "response_met": Count("pk", filter=Q(responded_at__lte=F("response_due"))),
        "response_missed": Count("pk", filter=response_missed),
        "reply_met": Count("pk", filter=Q(reply_due__isnull=False) & reply_met),
        "reply_missed": Count("pk", filter=Q(reply_due__isnull=False) & reply_late & reply_decided),
    }


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile: linear interpolation between the two nearest ranks."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(Cast(expression, FloatField()), fraction=repr(float(fraction)), **extra)


def _closed_aggregates(vendor: str) -> dict:
    """Cases closed in the period (their latest closing; a reopened case counts when closed again)."""
    aggregates = {
        "closed": Count("pk"),
        "resolution_met": Count("pk", filter=Q(resolved_at__lte=F("resolution_due"))),
        "resolution_missed": Count(
            "pk",
            filter=Q(resolution_due__isnull=False)
            & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=F("resolution_due"))),
        ),
        "reopened": Count("pk", filter=Q(reopened_count__gt=0)),
        # NULL handling time (closed before it was recorded) is unknown: left out of average and percentile.
        "handling_cases": Count("handling_minutes"),
        "handling_total_minutes": Sum("handling_minutes"),
    }
    if vendor == "postgresql":
        aggregates["p90"] = PercentileCont("handling_minutes", PERCENTILE[0] / PERCENTILE[1])
    return aggregates


def _percentile_by_window(queryset: QuerySet, group) -> dict[Any, float]:
    """The same interpolated percentile as PERCENTILE_CONT, for databases without it (SQLite).

    Still one query: ROW_NUMBER() and COUNT(*) over each group's values, ordered, then the two rows
    around position 1 + p·(n − 1) are weighted by the fraction. Integer arithmetic picks the rows,
    so 0.9·(n − 1) never lands on the wrong rank through rounding.
    """
    inner = (
        queryset.filter(handling_minutes__isnull=False)
        .annotate(grp=group if group is not None else Value(0), v=F("handling_minutes"))
        .values("grp", "v")
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    num, den = PERCENTILE
    low = f"(({num} * (n - 1)) / {den})"  # 0-based rank of the lower neighbour (integer division)
    frac = f"((({num} * (n - 1)) %% {den}) * 1.0 / {den})"
    outer = (
        f"SELECT grp, SUM(CASE WHEN rn = {low} + 1 THEN v * (1.0 - {frac}) ELSE v * {frac} END) "  # noqa: S608
        f"FROM (SELECT grp, v, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY v) AS rn, "
        f"COUNT(*) OVER (PARTITION BY grp) AS n FROM ({sql}) AS q) AS w "
        f"WHERE rn = {low} + 1 OR rn = {low} + 2 GROUP BY grp"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(outer, params)
        rows = cursor.fetchall()
    if group is None:
        return {None: float(rows[0][1])} if rows else {}
    return {key: float(value) for key, value in rows}


def _follow_up_aggregates(now: datetime) -> dict:
    """Follow-ups created in the period (at the closing), cancelled ones (by a reopening) left out."""
    return {
        "follow_ups": Count("pk"),
        "follow_up_met": Count("pk", filter=Q(done_at__lte=F("due"))),
        "follow_up_missed": Count("pk", filter=Q(done_at__gt=F("due")) | Q(done_at__isnull=True, due__lt=now)),
    }


def _satisfaction_aggregates() -> dict:
    happy = [FollowUpOutcome.SATISFIED, FollowUpOutcome.BASICALLY_SATISFIED]
    return {
        "satisfied": Count("pk", filter=Q(outcome__in=happy)),
        "dissatisfied": Count("pk", filter=Q(outcome=FollowUpOutcome.DISSATISFIED)),
        "unreachable": Count("pk", filter=Q(outcome=FollowUpOutcome.UNREACHABLE)),
    }


def counted_cases(scope: ReportScope) -> QuerySet:
    """The cases every figure counts: the scope without duplicates merged into another request."""
    return scope.cases.order_by().filter(merged_into__isnull=True)


def _follow_ups(scope: ReportScope) -> QuerySet:
    follow_ups = FollowUp.objects.order_by().filter(case__merged_into__isnull=True)
    if scope.restricted:
        follow_ups = follow_ups.filter(Exists(scope.cases.order_by().filter(pk=OuterRef("case_id"))))
    return follow_ups


def households_on(period: Period, today: date | None = None) -> date:
    """Households are counted on the period's last day, or today for a period not yet over."""
    today = today or timezone.localdate()
    return min(period.last_day, today)


def _households(scope: ReportScope, breakdown: str, on: date) -> dict[Any, int]:
    """Units with a current occupancy (owner, resident or tenant) on `on`, per place when spatial."""
    lived_in = Occupancy.objects.current(on).filter(unit_id=OuterRef("pk"))
    units = scope.units.order_by().filter(Exists(lived_in))
    group = F(_UNIT_FIELD_OF[breakdown]) if breakdown in _UNIT_FIELD_OF else None
    return {key: row["households"] for key, row in _scan(units, group, {"households": Count("pk")}).items()}


# --- the scans and the daily roll-up ------------------------------------------------------------

SCAN_PARTS = ("received", "closed", "follow_up", "satisfaction")


@dataclass(frozen=True)
class ScanPlan:
    """One scan before its dates are chosen: its rows, the date field that places a row in a period
    (reached through the case for follow-ups: `via_case`) and the aggregates it adds to a `Tally`."""

    part: str
    rows: QuerySet
    date_field: str
    via_case: bool
    aggregates: dict


def scan_plans(
    scope: ReportScope, *, closing_end: datetime | None, now: datetime, parts=PARTS, percentile: bool = True
) -> list[ScanPlan]:
    """The scans of `parts`, shared by `compute` and the daily roll-up (`reports.rollup`).

    `closing_end` is the end of the period for the closing rate (None: closed so far). The 90th
    percentile of handling time is only added with `percentile` on PostgreSQL (elsewhere `compute`
    asks for it separately); it does not add up, so the roll-up never keeps it.
    """
    cases = counted_cases(scope)
    vendor = connections[cases.db].vendor
    plans = []
    if "received" in parts:
        plans.append(ScanPlan("received", cases, "received_at", False, _received_aggregates(closing_end, now)))
    if "closed" in parts:
        aggregates = _closed_aggregates(vendor)
        if not percentile:
            aggregates.pop("p90", None)
        plans.append(ScanPlan("closed", cases, "closed_at", False, aggregates))
    if "follow_up" in parts:
        created = _follow_ups(scope).filter(Q(done_at__isnull=True) | ~Q(outcome=""))
        plans.append(ScanPlan("follow_up", created, "created_at", True, _follow_up_aggregates(now)))
    if "satisfaction" in parts:
        answered = _follow_ups(scope).exclude(outcome="")
        plans.append(ScanPlan("satisfaction", answered, "done_at", True, _satisfaction_aggregates()))
    return plans


def scan_columns(part: str) -> tuple[str, ...]:
    """The `Tally` fields one scan counts: the columns the roll-up keeps for it."""
    epoch = midnight(date(2000, 1, 1))
    aggregates = {
        "received": lambda: _received_aggregates(None, epoch),
        "closed": lambda: _closed_aggregates("sqlite"),
        "follow_up": lambda: _follow_up_aggregates(epoch),
        "satisfaction": _satisfaction_aggregates,
    }[part]()
    return tuple(aggregates)


# A roll-up row holds something of a scan when one of these is above 0 (every other column of the
# scan counts a subset of them): groups with nothing of the scans asked for stay out, as they do
# when the scans read the requests.
SCAN_PRESENCE = {
    "received": ("received",),
    "closed": ("closed",),
    "follow_up": ("follow_ups",),
    "satisfaction": ("satisfied", "dissatisfied", "unreachable"),
}
# What the roll-up can group by: it keeps the project and the category of each request.
ROLLUP_BREAKDOWNS = frozenset({"none", "company", "project", "category", "category_root", *GRAINS})
ROLLUP_HOT_SPOT_DIMENSIONS = frozenset({"project", "category", "category_root"})


def rollup_serves(scope: ReportScope) -> bool:
    """Whether the roll-up, kept per project, can stand in for the scope's requests."""
    return not scope.restricted or scope.projects is not None


def rollup_counted_at(now: datetime | None = None) -> datetime | None:
    """When the daily roll-up was last counted, if that may be read at `now`.

    Not when it was never counted, when it was counted after `now` (it would hold later changes), or
    more than GUANJIA_CASE_STATS_MAX_AGE seconds (default 1,800) before: a worker that has stopped
    leaves the dashboards counting everything from the requests, slower but up to date.
    """
    now = now or timezone.now()
    counted_at = DailyCaseStatsState.objects.filter(pk=1).values_list("counted_at", flat=True).first()
    max_age = getattr(settings, "GUANJIA_CASE_STATS_MAX_AGE", 1800)
    if counted_at is None or counted_at > now or (now - counted_at).total_seconds() > max_age:
        return None
    return counted_at


def _rollup_cut(scope: ReportScope, period: Period, now: datetime) -> date | None:
    """The first day of `period` counted from the requests; the days before it are read from the roll-up.

    None (everything from the requests) unless the roll-up serves the scope, the period is still
    running (the roll-up's closing rate is "closed so far", which for a period that has ended
    would count closings after its end), and the roll-up is fresh (`rollup_counted_at`). Days from
    the Beijing date of the roll-up's last count on, today among them, always come from the
    requests: the roll-up holds them only in part.
    """
    if not rollup_serves(scope) or midnight(period.end) <= now:
        return None
    counted_at = rollup_counted_at(now)
    if counted_at is None:
        return None
    cut = min(timezone.localdate(counted_at), period.end)
    return cut if cut > period.start else None


def _rollup_rows(scope: ReportScope, days: Period) -> QuerySet:
    rows = DailyCaseStats.objects.order_by().filter(day__gte=days.start, day__lt=days.end)
    if scope.restricted:
        rows = rows.filter(project_id__in=scope.projects)
    return rows


def _rolled_up(scope: ReportScope, days: Period, group, parts) -> dict[Any, dict]:
    """The roll-up's sums of the columns of `parts` over `days`, per group: what the scans of those
    parts would count over the same days."""
    columns: list[str] = []
    present = Q(pk__in=[])
    for part in SCAN_PARTS:
        if part in parts:
            columns.extend(scan_columns(part))
            for name in SCAN_PRESENCE[part]:
                present |= Q(**{f"{name}__gt": 0})
    if not columns:
        return {}
    return _scan(_rollup_rows(scope, days).filter(present), group, {name: Sum(name) for name in columns})


@contextmanager
def analytic_queries(using: str = "default"):
    """Run report queries without PostgreSQL's JIT compiler.

    The planner JIT-compiles every query it estimates as expensive; report queries are exactly
    those, yet run in 0.1–1 s, and compiling each took about 0.4 s on the benchmark machine.
    `SET LOCAL` needs a transaction and ends with it. Elsewhere nothing changes (SQLite would
    take its write lock for a transaction, so none is opened there).
    """
    if connections[using].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def _analytic(fn):
    """Report queries read from the read replica when one is configured (`core.db_router`), without JIT."""

    @wraps(fn)
    def wrapped(scope, *args, **kwargs):
        with replica_reads(), analytic_queries(scope.cases.db):
            return fn(scope, *args, **kwargs)

    return wrapped


# --- the figures -------------------------------------------------------------------------------


@_analytic
def compute(
    scope: ReportScope,
    period: Period,
    breakdown: str = "none",
    *,
    now: datetime | None = None,
    top: int = 10,
    parts=PARTS,
    percentile: bool = True,
    rollup: bool = False,
) -> Report:
    """Every figure of `scope` in `period`, in total and per group of `breakdown`.

    `parts` leaves out scans a caller does not need (a chart of intake only needs "received");
    the figures of a part left out stay zero. `top` > 0 adds the most frequent categories.
    `percentile=False` leaves out the 90th percentile of handling time (None), which no sum of
    daily counts gives. `rollup` reads the days before today from the daily roll-up where it can
    (`_rollup_cut`): the dashboards' way to count months of requests in a few milliseconds. The
    closing scan then still reads the requests when the percentile is wanted.
    """
    if breakdown not in BREAKDOWNS:
        raise ValueError(breakdown)
    now = now or timezone.now()
    start, end = period.bounds
    buckets = period.buckets(breakdown) if breakdown in GRAINS else None
    tallies: dict[Any, Tally] = defaultdict(Tally)
    p90: dict[Any, float] = {}
    total_p90 = None
    vendor = connections[counted_cases(scope).db].vendor

    def group(date_field: str, *, via_case: bool = False):
        if via_case:
            return _group(breakdown, prefix="case__", case_ref="case_id", date_field=date_field, buckets=buckets)
        return _group(breakdown, date_field=date_field, buckets=buckets)

    def add(rows: dict[Any, dict]) -> None:
        for key, values in rows.items():
            values.pop("p90", None)
            tallies[key].add(values)

    # Days before `cut` come from the roll-up, the rest of the period from the requests.
    cut = _rollup_cut(scope, period, now) if rollup and breakdown in ROLLUP_BREAKDOWNS else None
    rolled = set()
    if cut is not None:
        rolled = {part for part in SCAN_PARTS if part in parts and not (part == "closed" and percentile)}
        by_day = _bucket("day", buckets, dates=True) if breakdown in GRAINS else _group(breakdown)
        add(_rolled_up(scope, Period(period.start, cut), by_day, rolled))

    for plan in scan_plans(scope, closing_end=end, now=now, parts=parts, percentile=percentile):
        since = midnight(cut) if plan.part in rolled else start
        rows = plan.rows.filter(**{f"{plan.date_field}__gte": since, f"{plan.date_field}__lt": end})
        by = group(plan.date_field, via_case=plan.via_case)
        counted = _scan(rows, by, plan.aggregates)
        if plan.part == "closed" and percentile:
            if vendor == "postgresql":
                p90 = {key: row["p90"] for key, row in counted.items() if row.get("p90") is not None}
            else:
                p90 = _percentile_by_window(rows, by)
            if breakdown != "none":
                # Percentiles do not add up: the total needs its own query.
                if vendor == "postgresql":
                    total_p90 = rows.aggregate(p90=plan.aggregates["p90"])["p90"]
                else:
                    total_p90 = _percentile_by_window(rows, None).get(None)
        add(counted)

    households_total = None
    if "households" in parts:
        on = households_on(period, timezone.localdate(now))
        if breakdown in SPATIAL:
            for key, count in _households(scope, breakdown, on).items():
                tallies[key].households += count
        else:
            households_total = _households(scope, "none", on).get(None, 0)

    if breakdown == "none":
        tally = tallies.get(None, Tally())
        if households_total is not None:
            tally.households = households_total
        total = Figures(None, _("Total"), tally, p90.get(None))
        groups = []
    else:
        labels = _labels(breakdown, tallies.keys(), buckets)
        keys = list(tallies)
        if breakdown in GRAINS:
            keys = list(range(len(buckets)))  # every bucket, empty ones too, in time order
        groups = []
        for key in keys:
            tally = tallies.get(key, Tally())
            if households_total is not None:
                tally.households = households_total
            label = labels.get(key) or (none_label(breakdown) if key is None else str(key))
            figures = Figures(key, label, tally, p90.get(key), households_known=breakdown in SPATIAL)
            if breakdown in GRAINS:
                figures.key = buckets[key].start.isoformat()
            groups.append(figures)
        if breakdown not in GRAINS:
            groups.sort(key=lambda g: (g.key is None, -g.received, -g.closed, g.label))
        tally = sum((tallies[k] for k in tallies), Tally())
        if households_total is not None:
            tally.households = households_total
        total = Figures(None, _("Total"), tally, total_p90)

    report = Report(period, breakdown, total, groups, generated_at=now)
    if top > 0 and "received" in parts:
        report.top_categories = top_categories(scope, period, top, total=total.received, now=now, rollup=rollup)
    return report


@_analytic
def top_categories(
    scope: ReportScope,
    period: Period,
    limit: int = 10,
    *,
    total: int | None = None,
    now: datetime | None = None,
    rollup: bool = False,
) -> list[CategoryCount]:
    """The categories (as recorded) with the most cases received in the period; share of all received.

    With `rollup`, the days before today are read from the roll-up (see `compute`): one query adds
    the roll-up's counts and those of the remaining days per category before choosing the largest.
    """
    now = now or timezone.now()
    start, end = period.bounds
    cut = _rollup_cut(scope, period, now) if rollup else None
    since = midnight(cut) if cut else start
    received = counted_cases(scope).filter(received_at__gte=since, received_at__lt=end, category__isnull=False)
    if cut is None:
        rows = list(received.values("category_id").annotate(n=Count("pk")).order_by("-n", "category_id")[:limit])
    else:
        rolled = (
            _rollup_rows(scope, Period(period.start, cut))
            .filter(received__gt=0, category__isnull=False)
            .values("category_id")
            .annotate(n=Sum("received"))
        )
        live = received.values("category_id").annotate(n=Count("pk")).order_by()
        rolled_sql, rolled_params = rolled.query.sql_with_params()
        live_sql, live_params = live.query.sql_with_params()
        sql = (
            f"SELECT category_id, SUM(n) FROM ({rolled_sql} UNION ALL {live_sql}) AS counts "  # noqa: S608
            "GROUP BY category_id ORDER BY 2 DESC, 1 LIMIT %s"
        )
        with connections[received.db].cursor() as cursor:
            cursor.execute(sql, [*rolled_params, *live_params, limit])
            rows = [{"category_id": key, "n": int(n)} for key, n in cursor.fetchall()]
    if total is None:
        total = compute(scope, period, now=now, top=0, parts={"received"}, rollup=rollup).total.received
    labels = _labels("category", [r["category_id"] for r in rows])
    return [
        CategoryCount(r["category_id"], labels.get(r["category_id"], ""), r["n"], Rate(r["n"], total)) for r in rows
    ]


@_analytic
def snapshot(scope: ReportScope, breakdown: str = "none", *, now: datetime | None = None) -> list[Snapshot]:
    """The queue now, per group: received today, open (suspended included), suspended, overdue
    (open, not suspended, past the resolution deadline), waiting for a first response past its
    deadline, and follow-up calls pending and overdue. The first row is the total."""
    if breakdown in GRAINS:
        raise ValueError(breakdown)
    now = now or timezone.now()
    today = Period.of("day", timezone.localdate(now))
    cases = counted_cases(scope)
    group = _group(breakdown)
    results: dict[Any, Snapshot] = {}

    def add(rows: dict[Any, dict]) -> None:
        for key, values in rows.items():
            item = results.setdefault(key, Snapshot(key, ""))
            for name, value in values.items():
                setattr(item, name, getattr(item, name) + (value or 0))

    def scan(rows: QuerySet, aggregates: dict, prefix: str = "", *, most: bool = False) -> dict[Any, dict]:
        if most and breakdown == "company":
            return _scan_by_company(rows, aggregates)
        if prefix:
            return _scan(rows, _group(breakdown, prefix=prefix, case_ref="case_id"), aggregates)
        return _scan(rows, group, aggregates)

    # COUNT(*) and counts of indexed columns, so that PostgreSQL can answer from the indexes alone
    # (COUNT(id) would read every row for its id: the open queue may be most of the table).
    start, end = today.bounds
    add(scan(cases.filter(received_at__gte=start, received_at__lt=end), {"received_today": Count("*")}))
    # Merged duplicates are closed, so the open queue needs no test on `merged_into`, and the
    # (project, status) index answers the counts without reading the table.
    queue = scope.cases.order_by()
    open_or_paused = queue.filter(status__in=OPEN_STATUSES | PAUSED_STATUSES)
    counts = {"open": Count("*"), "suspended": Count("status", filter=Q(status__in=PAUSED_STATUSES))}
    add(scan(open_or_paused, counts, most=True))
    add(scan(queue.overdue(now), {"overdue": Count("*")}))
    add(scan(queue.response_overdue(now), {"response_overdue": Count("*")}))
    pending = _follow_ups(scope).filter(done_at__isnull=True, case__status=CaseStatus.CLOSED)
    add(
        scan(
            pending,
            {"follow_ups_pending": Count("*"), "follow_ups_overdue": Count("due", filter=Q(due__lt=now))},
            prefix="case__",
        )
    )
    total = Snapshot(None, _("Total"))
    for item in results.values():
        for f in fields(Snapshot):
            if f.name not in ("key", "label"):
                setattr(total, f.name, getattr(total, f.name) + getattr(item, f.name))
    if breakdown == "none":
        return [total]
    labels = _labels(breakdown, results.keys())
    rows = sorted(results.values(), key=lambda s: (s.key is None, -s.open, str(s.key)))
    for item in rows:
        item.label = labels.get(item.key) or (none_label(breakdown) if item.key is None else str(item.key))
    return [total, *rows]


HOT_SPOT_DIMENSIONS = ("project", "area", "building", "category", "category_root")


@_analytic
def hot_spots(
    scope: ReportScope,
    period: Period,
    grain: str,
    dimensions: tuple[str, ...] = ("building", "category"),
    *,
    history: int = 8,
    min_count: int = 5,
    sigmas: int = 2,
    now: datetime | None = None,
    rollup: bool = False,
) -> dict[str, list[HotSpot]]:
    """Buildings, categories (or projects, areas) with an unusual cluster of cases received in `period`.

    A group is hot when its count this period is at least `min_count` and exceeds the mean of the
    `history` periods before it by more than `sigmas` population standard deviations (periods
    without any case count as 0). All in one query: the cases of the window are counted once per
    (group of each dimension, period) in a common table expression; per dimension and group the
    outer queries take the count c of this period and, over the history, S = Σn and Q = Σn², and
    keep the groups with H·c − S > k·√(H·Q − S²), squared so that no square root is needed (SQLite
    has none by default). With `rollup`, the counts of the days before today come from the roll-up
    (projects and categories only; see `compute`) and join those of the requests in the same table
    expression.
    """
    for dimension in dimensions:
        if dimension not in HOT_SPOT_DIMENSIONS:
            raise ValueError(dimension)
    periods = [period.shift(grain, -k) for k in range(history, 0, -1)] + [period]
    window = Period(periods[0].start, period.end)
    start, end = window.bounds
    keys = {f"g{i}": _group(dimension) for i, dimension in enumerate(dimensions)}
    cut = None
    if rollup and set(dimensions) <= ROLLUP_HOT_SPOT_DIMENSIONS:
        cut = _rollup_cut(scope, window, now or timezone.now())
    counts = (
        counted_cases(scope)
        .filter(received_at__gte=midnight(cut) if cut else start, received_at__lt=end)
        .annotate(**keys, bucket=_bucket("received_at", periods))
        .values(*keys, "bucket")
        .annotate(n=Count("pk"))
        .order_by()
    )
    sql, params = counts.query.sql_with_params()
    if cut is not None:
        rolled = (
            _rollup_rows(scope, Period(window.start, cut))
            .filter(received__gt=0)
            .annotate(**keys, bucket=_bucket("day", periods, dates=True))
            .values(*keys, "bucket")
            .annotate(n=Sum("received"))
            .order_by()
        )
        rolled_sql, rolled_params = rolled.query.sql_with_params()
        sql, params = f"{rolled_sql} UNION ALL {sql}", (*rolled_params, *params)
    h = history
    current = f"SUM(CASE WHEN bucket = {h} THEN n ELSE 0 END)"
    total = f"SUM(CASE WHEN bucket < {h} THEN n ELSE 0 END)"
    squares = f"SUM(CASE WHEN bucket < {h} THEN n * n ELSE 0 END)"
    excess = f"({h} * {current} - {total})"
    selects = [
        f"SELECT {i} AS dim, {key} AS grp, {current} AS c, {total} AS s, {squares} AS q "  # noqa: S608
        f"FROM (SELECT {key}, bucket, SUM(n) AS n FROM counts WHERE {key} IS NOT NULL GROUP BY {key}, bucket) AS d "
        f"GROUP BY {key} HAVING {current} >= %s AND {excess} > 0 "
        f"AND {excess} * {excess} > {sigmas * sigmas} * ({h} * {squares} - {total} * {total})"
        for i, key in enumerate(keys)
    ]
    outer = f"WITH counts AS ({sql}) " + " UNION ALL ".join(selects) + " ORDER BY 1, 3 DESC, 2"
    with connections[counts.db].cursor() as cursor:
        cursor.execute(outer, [*params, *([min_count] * len(keys))])
        rows = cursor.fetchall()
    result: dict[str, list[HotSpot]] = {dimension: [] for dimension in dimensions}
    for dim, key, count, s, q in rows:
        dimension = dimensions[dim]
        # PostgreSQL sums integers as numeric (Decimal).
        count, s, q = int(count), int(s), int(q)
        mean = s / h
        variance = max(q / h - mean * mean, 0.0)
        result[dimension].append(HotSpot(key, "", count, round(mean, 1), round(variance**0.5, 1)))
    for dimension, spots in result.items():
        labels = _labels(dimension, [spot.key for spot in spots])
        result[dimension] = [replace(spot, label=labels.get(spot.key, str(spot.key))) for spot in spots]
    return result
