"""The daily roll-up (`reports.rollup`, `DailyCaseStats`): dashboards read from it show exactly what
counting every request shows, after edits too once the worker has run again.

The requests are the hand-counted October of conftest.py (read on 2025-11-05 12:00) plus `more`:
requests on both sides of Beijing midnights (which UTC would put on the other day, and one in the
other month), a cluster of leaks that makes hot spots, and requests of the days just before
"today". Every comparison builds the same dashboard twice, once with the roll-up and once counting
every request (`rollup=False`), at the same moment.
"""

from dataclasses import fields, replace
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone, translation

from guanjia.cases import services as s
from guanjia.cases.choices import CaseType, FollowUpOutcome, Visibility
from guanjia.cases.models import Case, CaseEvent
from guanjia.org.choices import DepartmentKind, Role, ScopeLevel
from guanjia.reports import metrics
from guanjia.reports.dashboard import build_dashboard
from guanjia.reports.metrics import Tally, compute, scan_columns
from guanjia.reports.models import DailyCaseStats, DailyCaseStatsState
from guanjia.reports.queries import report_scope_for
from guanjia.reports.rollup import refresh_case_stats, touched_days
from guanjia.testing import make_staff

from .conftest import OCTOBER, at, category, close, follow_up, record

LEVELS = ("admin", "manager", "specialist")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _events_on_the_clock(clock, monkeypatch):
    """Timeline events carry the moment they happen, as in production: here the fake clock's (the
    roll-up finds the day a reopened request had been closed on its timeline)."""
    monkeypatch.setattr(CaseEvent._meta.get_field("time"), "_get_default", lambda: clock.now or timezone.now())


@pytest.fixture
def more(october, clock):
    """More requests around 2025-11-05 12:00 (a Wednesday)."""
    w = october.world
    sp = w.specialist
    leak = category("工程质量", "渗漏", "卫生间渗漏")
    noise = category("公共秩序", "噪音")
    # 23:50 and 00:10 Beijing are 15:50 and 16:10 UTC of the same UTC day: one each side of the
    # midnight that ends October.
    late = record(sp, w.project, category=noise, received_at=at(2025, 10, 31, 23, 50))
    early = record(sp, w.project, category=noise, received_at=at(2025, 11, 1, 0, 10))
    clock.set(at(2025, 11, 1, 0, 20))
    close(sp, late)  # received in October, closed on November's first day
    # A cluster of leaks on 11-03 (a rolled-up day) and one today: hot spots by project and category.
    for minute in range(6):
        clock.set(at(2025, 11, 3, 10, minute))
        record(sp, w.project, case_type=CaseType.REPAIR, category=leak, units=[w.unit_b])
    clock.set(at(2025, 11, 4, 23, 59))
    just_before = record(w.outsider, w.other_project, category=noise)
    clock.set(at(2025, 11, 5, 0, 1))
    just_after = record(w.outsider, w.other_project, category=leak)
    clock.set(at(2025, 11, 5, 9, 0))
    close(w.outsider, just_before)
    clock.set(october.now)
    return {"late": late, "early": early, "just_before": just_before, "just_after": just_after}


def board(user, grain="month", *, now, rollup=True, **narrow):
    return build_dashboard(report_scope_for(user, **narrow), grain, now=now, rollup=rollup)


def assert_same(user, now, grain="month", **narrow):
    """The dashboard from the roll-up is the dashboard from the requests, figure for figure."""
    rolled = board(user, grain, now=now, **narrow)
    counted = board(user, grain, now=now, rollup=False, **narrow)
    assert rolled.rolled_up_at is not None, "the roll-up was not read"
    assert replace(rolled, rolled_up_at=None) == counted
    return rolled


def test_the_rollup_keeps_every_count_of_a_tally():
    counts = {f.name for f in fields(Tally)} - {"households"}
    columns = [name for part in metrics.SCAN_PARTS for name in scan_columns(part)]
    assert sorted(columns) == sorted(counts)
    model = {f.name for f in DailyCaseStats._meta.concrete_fields} - {"id", "day", "project", "category"}
    assert model == counts


@pytest.mark.parametrize("grain", ["month", "week"])
@pytest.mark.parametrize("level", LEVELS)
def test_dashboards_from_the_rollup_equal_dashboards_counted_from_the_requests(more, october, level, grain):
    refresh_case_stats(now=october.now)
    rolled = assert_same(getattr(october.world, level), october.now, grain)
    assert rolled.rolled_up_at == october.now


def test_the_figures_the_rollup_gives_are_the_hand_counted_ones(more, october):
    w = october.world
    refresh_case_stats(now=october.now)
    dash = assert_same(w.admin, october.now)
    trend = {g.key: g for g in dash.trend.groups}
    # October: the six of the hand count and the request of 10-31 23:50.
    assert trend["2025-10-01"].received == 7
    # November so far: 00:10 on the first, six leaks, 11-04 23:59 (rolled-up days) and today's
    # request of 00:01.
    assert trend["2025-11-01"].received == 9
    # Closed in November: c7 (11-03), 10-31 23:50 (on 11-01 00:20) and 11-04 23:59 (today).
    assert trend["2025-11-01"].closed == 3
    assert (dash.current.total.received, dash.current.total.closed) == (9, 3)
    assert [(h.label, h.count) for h in dash.hot_places] == [("绿色家园", 7)]
    assert ("工程质量 / 渗漏 / 卫生间渗漏", 7) in [(h.label, h.count) for h in dash.hot_categories]
    # Days are Beijing days: 23:50 on 10-31 and 00:10 on 11-01 fall on their own dates.
    days = DailyCaseStats.objects.filter(
        project=w.project, category=category("公共秩序", "噪音"), day__in=[date(2025, 10, 31), date(2025, 11, 1)]
    )
    assert sorted(days.values_list("day", "received", "closed")) == [
        (date(2025, 10, 31), 1, 0),
        (date(2025, 11, 1), 1, 1),
    ]


def test_the_dashboard_reads_the_days_before_today_from_the_rollup(more, october):
    w = october.world
    refresh_case_stats(now=october.now)
    before = board(w.admin, now=october.now)
    DailyCaseStats.objects.filter(day=date(2025, 11, 3), received__gt=0).update(received=F("received") + 100)
    after = board(w.admin, now=october.now)
    assert after.current.total.received == before.current.total.received + 100
    # Today is always counted from the requests.
    DailyCaseStats.objects.filter(day=date(2025, 11, 5)).update(received=F("received") + 1000)
    assert board(w.admin, now=october.now).current.total.received == after.current.total.received


def test_edits_after_the_rollup_show_once_it_has_run_again(more, october, clock):
    w = october.world
    sp = w.specialist
    # A request received the evening before, whose first-response deadline passes with no write.
    clock.set(at(2025, 11, 5, 16, 55))
    waiting = record(w.manager, w.sister_project, case_type=CaseType.INQUIRY, description="门禁卡怎么补办")
    due = timezone.localtime(waiting.response_due)
    assert due.date() == date(2025, 11, 6)
    first = clock.set(due - timedelta(minutes=5))
    refresh_case_stats(now=first)
    assert_same(w.admin, first)

    clock.set(due + timedelta(minutes=1))
    # c7 (received 10-31, closed 11-03) is reopened: 11-03 loses its closing.
    c7 = Case.objects.get(pk=october.c7.pk)
    s.do_reopen_case(sp, c7, expected_version=c7.version, reason="业主说没处理完")
    # c2's follow-up of 10-16, overdue since, is made now.
    follow_up(sp, october.c2, FollowUpOutcome.SATISFIED)
    # A request of 11-01 answered and another of 11-03 merged away.
    s.do_add_note(sp, Case.objects.get(pk=more["early"].pk), note="已联系业主", visibility=Visibility.CUSTOMER)
    duplicate = Case.objects.filter(project=w.project, received_at__date=date(2025, 11, 3)).order_by("pk").first()
    s.do_merge_cases(sp, duplicate, into=october.c5, expected_version=duplicate.version)
    later = clock.set(due + timedelta(minutes=20))

    # Until the roll-up runs again, the days before today show what they were at its last run.
    stale = board(w.manager, now=later)
    counted = board(w.manager, now=later, rollup=False)
    assert stale.rolled_up_at == first
    assert stale.trend.groups[-1].closed == counted.trend.groups[-1].closed + 1  # c7
    assert stale.current.total.received == counted.current.total.received + 1  # the duplicate

    def response(dash):
        return next(r.figures.on_time["response"] for r in dash.rows if r.key == w.sister_project.pk)

    assert (response(stale).denominator, response(counted).denominator) == (0, 1)

    result = refresh_case_stats(now=later)
    assert not result.full
    assert {date(2025, 11, 1), date(2025, 11, 3), date(2025, 11, 5), date(2025, 10, 16)} <= set(
        touched_days(first - timedelta(minutes=10), later)
    )
    for level in LEVELS:
        assert_same(getattr(w, level), later)
        assert_same(getattr(w, level), later, "week")


def test_a_refresh_writes_what_a_full_count_writes(more, october, clock):
    w = october.world

    def rows():
        columns = [f.attname for f in DailyCaseStats._meta.concrete_fields if f.name != "id"]
        return sorted(DailyCaseStats.objects.values_list(*columns), key=str)

    first = refresh_case_stats(now=october.now)
    assert first.full and first.rows == DailyCaseStats.objects.count() > 0
    counted = rows()
    again = refresh_case_stats(now=october.now + timedelta(minutes=5))
    assert not again.full
    assert rows() == counted
    later = clock.set(october.now + timedelta(minutes=30))
    c7 = Case.objects.get(pk=october.c7.pk)
    s.do_reopen_case(w.specialist, c7, expected_version=c7.version, reason="没修好")
    refresh_case_stats(now=later)
    incremental = rows()
    assert incremental != counted
    refresh_case_stats(now=later, full=True)
    assert rows() == incremental
    state = DailyCaseStatsState.objects.get(pk=1)
    assert (state.counted_at, state.rebuilt_at) == (later, later)


def test_no_rollup_no_change(more, october):
    w = october.world
    assert board(w.admin, now=october.now).rolled_up_at is None
    assert board(w.admin, now=october.now) == board(w.admin, now=october.now, rollup=False)


def test_a_stale_rollup_is_not_read(more, october, settings):
    w = october.world
    settings.GUANJIA_CASE_STATS_MAX_AGE = 600
    refresh_case_stats(now=october.now)
    DailyCaseStats.objects.update(received=F("received") + 100)
    assert board(w.admin, now=october.now + timedelta(seconds=600)).rolled_up_at == october.now
    later = october.now + timedelta(seconds=601)
    dash = board(w.admin, now=later)
    assert dash.rolled_up_at is None
    assert dash == board(w.admin, now=later, rollup=False)
    # Nor one counted after the moment asked about: it would hold later changes.
    assert board(w.admin, now=october.now - timedelta(minutes=1)).rolled_up_at is None


def test_a_period_that_has_ended_is_counted_from_the_requests(more, october):
    w = october.world
    refresh_case_stats(now=october.now)
    DailyCaseStats.objects.update(received=F("received") + 100)
    scope = report_scope_for(w.admin)
    rolled = compute(scope, OCTOBER, "project", now=october.now, rollup=True)
    assert rolled == compute(scope, OCTOBER, "project", now=october.now)
    assert rolled.total.received == 7


def test_scopes_narrower_than_whole_projects_count_from_the_requests(more, october):
    w = october.world
    refresh_case_stats(now=october.now)
    DailyCaseStats.objects.update(received=F("received") + 100)
    handler = make_staff("plumber", Role.HANDLER, ScopeLevel.PROJECT, project=w.project, department=w.dept)
    assert w.dept.kind == DepartmentKind.ENGINEERING
    for user, narrow in ((w.butler, {}), (handler, {}), (w.specialist, {"area": w.area_b.pk})):
        dash = board(user, now=october.now, **narrow)
        assert dash.rolled_up_at is None
        assert dash == board(user, now=october.now, rollup=False, **narrow)


def test_a_company_narrowed_from_the_group_reads_its_own_projects(more, october):
    w = october.world
    refresh_case_stats(now=october.now)
    narrowed = assert_same(w.admin, october.now, company=w.other_company.pk)
    # 锦江花园 in November: 11-04 23:59 (rolled up) and 11-05 00:01 (today).
    assert (narrowed.current.total.received, narrowed.current.total.closed) == (2, 1)
    assert narrowed.hot_places == []
    assert_same(w.manager, october.now, project=w.sister_project.pk)


def test_the_command_counts_every_day_or_the_changed_ones(more, october, capsys):
    call_command("rebuild_case_stats")
    full = capsys.readouterr().out
    assert '"full": true' in full and DailyCaseStats.objects.exists()
    call_command("rebuild_case_stats", "--changed")
    assert '"full": false' in capsys.readouterr().out
