"""The role dashboards: what one page shows, assembled from `metrics` (which does all the counting).

One dashboard per level of the organisation, chosen by the reader's scope (group, city company,
project, butler's area) or by narrowing to something inside it. Each shows the queue now, the
figures of the current week or month per group one level down, twelve weeks or months of trends,
the category mix and the hot spots. Chart data is the same numbers the tables print.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from guanjia.core.db_router import replica_reads
from guanjia.org.scope import scope_of

from .metrics import (
    CategoryCount,
    Figures,
    HotSpot,
    Period,
    Rate,
    Report,
    ReportScope,
    Snapshot,
    Tally,
    compute,
    hot_spots,
    rollup_counted_at,
    rollup_serves,
    snapshot,
)
from .queries import CHILD_BREAKDOWN

TREND_LENGTH = 12
HOT_SPOT_HISTORY = 8
HOT_SPOT_MIN_COUNT = 5
DASHBOARD_GRAINS = ("week", "month")
# Hot spots by place: projects across a group or company (one query over every request of the
# window, without the per-request unit look-up that buildings need), buildings inside a project.
HOT_SPOT_PLACES = {"group": "project", "company": "project", "project": "building", "area": "building"}

LEVEL_TITLES = {
    "group": gettext_lazy("Group dashboard"),
    "company": gettext_lazy("City company dashboard"),
    "project": gettext_lazy("Project dashboard"),
    "area": gettext_lazy("Area dashboard"),
}
# The deadlines whose on-time rates the dashboards show, with the names the case page uses.
SLA_LABELS = {
    "response": gettext_lazy("First response"),
    "resolution": gettext_lazy("Resolution"),
    "reply": gettext_lazy("Reply to the customer"),
    "follow_up": gettext_lazy("Follow-up call"),
}
BREAKDOWN_TITLES = {
    "company": gettext_lazy("By city company"),
    "project": gettext_lazy("By project"),
    "area": gettext_lazy("By area"),
    "building": gettext_lazy("By building"),
}


@dataclass
class Row:
    """One line of the breakdown table: the period's figures and the queue now of one group."""

    key: object
    label: str
    figures: Figures
    now: Snapshot | None


@dataclass
class Dashboard:
    """What one dashboard shows: plain data (no querysets), so that it can be cached."""

    level: str
    name: str
    grain: str
    period: Period
    today: date
    queue: Snapshot
    current: Report
    trend: Report
    categories: Report
    hot_places: list[HotSpot]
    hot_categories: list[HotSpot]
    hot_place_kind: str = "building"
    rows: list[Row] = field(default_factory=list)
    # When the days before today were counted (the daily roll-up); None when all was counted now.
    rolled_up_at: datetime | None = None

    hot_history: int = HOT_SPOT_HISTORY
    hot_minimum: int = HOT_SPOT_MIN_COUNT

    @property
    def category_mix(self) -> list[CategoryCount]:
        """Top-level categories with requests this period, largest first, with their share."""
        total = self.categories.total.received
        return [
            CategoryCount(g.key, g.label, g.received, Rate(g.received, total))
            for g in self.categories.groups
            if g.received
        ]

    @property
    def title(self) -> str:
        return str(LEVEL_TITLES[self.level])

    @property
    def breakdown(self) -> str:
        return CHILD_BREAKDOWN[self.level]

    @property
    def breakdown_title(self) -> str:
        return str(BREAKDOWN_TITLES[self.breakdown])

    def charts(self) -> dict:
        """The data of every chart, for `json_script`: the very numbers of the tables below them."""
        trend = self.trend.groups
        return {
            "trend": {
                "labels": [g.label for g in trend],
                "series": [
                    {"name": pgettext("count", "Received"), "type": "bar", "data": [g.received for g in trend]},
                    {"name": pgettext("count", "Closed"), "type": "bar", "data": [g.closed for g in trend]},
                ],
            },
            "rates": {
                "labels": [g.label for g in trend],
                "percent": True,
                "series": [
                    {"name": str(SLA_LABELS[kind]), "type": "line", "data": [g.on_time[kind].percent for g in trend]}
                    for kind in ("response", "resolution", "reply")
                ],
            },
            "follow_up": {
                "labels": [g.label for g in trend],
                "percent": True,
                "series": [
                    {
                        "name": _("Follow-ups in time"),
                        "type": "line",
                        "data": [g.follow_up_completion.percent for g in trend],
                    },
                    {"name": _("Satisfaction"), "type": "line", "data": [g.satisfaction.percent for g in trend]},
                ],
            },
            "categories": {
                "pie": [{"name": c.label, "value": c.received} for c in self.category_mix],
            },
            "groups": {
                "labels": [r.label for r in self.rows],
                "series": [
                    {
                        "name": pgettext("count", "Received"),
                        "type": "bar",
                        "data": [r.figures.received for r in self.rows],
                    },
                    {"name": pgettext("count", "Closed"), "type": "bar", "data": [r.figures.closed for r in self.rows]},
                ],
            },
        }


def cached_dashboard(user, scope: ReportScope, grain: str, narrow: dict) -> Dashboard:
    """`build_dashboard`, kept for GUANJIA_DASHBOARD_CACHE_SECONDS (default 300) per reader and view.

    With the daily roll-up a cold group dashboard takes a fraction of a second at 1,000,000
    requests (bench/README.md); managers open it many times a day, and a repeated view is served in
    milliseconds. The key holds everything that decides what the reader may see and how it is
    labelled, so no one is served another's figures; the page says when its figures were counted.
    0 turns the cache off.
    """
    seconds = getattr(settings, "GUANJIA_DASHBOARD_CACHE_SECONDS", 300)
    if not seconds:
        return build_dashboard(scope, grain)
    visible = scope_of(user)
    signature = "|".join(
        str(part)
        for part in (
            "v2",
            user.pk,
            user.role,
            user.scope_level,
            user.company_id,
            user.project_id,
            user.department_id,
            sorted(visible.area_ids or ()),
            sorted(narrow.items()),
            grain,
            get_language(),
        )
    )
    key = "reports:dashboard:" + hashlib.sha256(signature.encode()).hexdigest()
    board = cache.get(key)
    if board is None:
        board = build_dashboard(scope, grain)
        cache.set(key, board, seconds)
    return board


@replica_reads()
def build_dashboard(
    scope: ReportScope, grain: str = "month", *, now: datetime | None = None, rollup: bool = True
) -> Dashboard:
    """Everything one dashboard shows for `scope`, with the current week or month as its period.

    The period, trends, category mix and hot spots read the days before today from the daily
    roll-up when it serves the scope and is fresh (`metrics._rollup_cut`); the queue now and today
    are always counted from the requests. `rollup=False` counts everything from the requests.
    """
    if grain not in DASHBOARD_GRAINS:
        raise ValueError(grain)
    now = now or timezone.now()
    today = timezone.localdate(now)
    period = Period.of(grain, today)
    child = CHILD_BREAKDOWN[scope.level]
    queue = snapshot(scope, child, now=now)
    current = compute(scope, period, child, now=now, top=10, rollup=rollup)
    # The trend shows no percentile of handling time, the one figure that needs every request.
    trend = compute(
        scope,
        Period.last(grain, TREND_LENGTH, today),
        grain,
        now=now,
        top=0,
        parts={"received", "closed", "follow_up", "satisfaction"},
        percentile=False,
        rollup=rollup,
    )
    categories = compute(scope, period, "category_root", now=now, top=0, parts={"received"}, rollup=rollup)
    places = HOT_SPOT_PLACES[scope.level]
    hot = hot_spots(
        scope,
        period,
        grain,
        (places, "category"),
        history=HOT_SPOT_HISTORY,
        min_count=HOT_SPOT_MIN_COUNT,
        now=now,
        rollup=rollup,
    )
    by_key = {s.key: s for s in queue[1:]}
    rows = [Row(g.key, g.label, g, by_key.pop(g.key, None)) for g in current.groups]
    # Groups with open requests but nothing received or closed this period still belong in the table.
    for key, item in by_key.items():
        if item.open or item.overdue:
            empty = Figures(key, item.label, Tally())
            rows.append(Row(key, item.label, empty, item))
    return Dashboard(
        level=scope.level,
        name=scope.name,
        grain=grain,
        period=period,
        today=today,
        queue=queue[0],
        current=current,
        trend=trend,
        categories=categories,
        hot_places=hot[places],
        hot_place_kind=places,
        hot_categories=hot["category"],
        rows=rows,
        rolled_up_at=rollup_counted_at(now) if rollup and rollup_serves(scope) else None,
    )
