"""Every figure against the hand-counted October of conftest.py, plus the rules one at a time.

Figures of October 2025 read at 2025-11-05 12:00 (see `october` for what happened to each case):

    received 6 (c2 c3 c4 c5 c6 c7; c1 came in September, c8 was merged away)
    closed in October 4 (c1 c2 c4 c6; c7 closed in November)
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.utils import translation

from guanjia.cases import services as s
from guanjia.cases.choices import CaseType, FollowUpOutcome
from guanjia.cases.models import Case, FollowUp
from guanjia.estate.models import Occupancy
from guanjia.org.choices import Role, ScopeLevel
from guanjia.reports import metrics
from guanjia.reports.metrics import BREAKDOWNS, Period, Rate, compute, hot_spots, snapshot
from guanjia.reports.queries import report_scope_for
from guanjia.testing import make_staff

from .conftest import OCTOBER, at, category, close, follow_up, record

NOVEMBER = Period(date(2025, 11, 1), date(2025, 12, 1))


@pytest.fixture(autouse=True)
def _english():
    """Group labels such as "No unit" are translated; these tests read the English source."""
    with translation.override("en"):
        yield


def figures(user, period=OCTOBER, breakdown="none", now=None, **narrow):
    return compute(report_scope_for(user, **narrow), period, breakdown, now=now)


def test_october_in_total_matches_the_hand_count(october):
    report = figures(october.world.admin, now=october.now)
    t = report.total
    assert (t.received, t.closed) == (6, 4)
    # Received in October and closed by its end: c2, c4, c6.
    assert t.closing_rate == Rate(3, 6)
    # In time: c2 (a note to the customer at 10:05) and c3 (suspending answers). Late: c4
    # (answered by the suspension at 14:00), c5 (never), c6 and c7 (only by the closing).
    assert t.on_time["response"] == Rate(2, 6)
    # Closed in October: c1, c2 (its second round) and c4 in time; c6 late.
    assert t.on_time["resolution"] == Rate(3, 4)
    # c2 replied, c4 c6 c7 closed before the reply deadline; c5 missed it; c3 is suspended: pending.
    assert t.on_time["reply"] == Rate(4, 5)
    # Follow-ups created in October: c1, c4 and c6 (its third unreachable call) in time; c2's first
    # was late, its second is overdue.
    assert t.on_time["follow_up"] == Rate(3, 5)
    assert t.follow_up_completion == Rate(3, 5)
    # Reached in October: c1 satisfied, c4 basically satisfied, c2 dissatisfied; c6 unreachable.
    assert t.satisfaction == Rate(2, 3)
    assert t.tally.unreachable == 1
    assert t.reopen_rate == Rate(1, 4)
    assert t.repeat_complaint_rate == Rate(1, 2)
    # c1 90 min (the holiday does not count), c2 1,410, c4 270 (less the pause), c6 2,310.
    assert t.tally.handling_cases == 4
    assert t.handling_avg_hours == 17.0
    # PERCENTILE_CONT(0.9) of 90, 270, 1410, 2310: 1410 + 0.7 × 900 = 2040 minutes.
    assert t.handling_p90_minutes == pytest.approx(2040)
    assert t.handling_p90_hours == 34.0
    # Three units with an owner living there; two complaints.
    assert t.households == 3
    assert t.complaints_per_100_households == 66.67
    assert [(c.label, c.received) for c in report.top_categories] == [
        ("公共秩序 / 噪音", 2),
        ("工程质量 / 渗漏 / 卫生间渗漏", 1),
        ("工程质量 / 水电 / 给排水", 1),
    ]
    assert report.top_categories[0].share == Rate(2, 6)


def test_the_cases_behind_the_count_hold_what_the_services_stored(october):
    # The holiday: 09-30 18:30 → 10-09 10:00 is 90 working minutes (10-01 … 10-08 are closed).
    assert october.c1.handling_minutes == 90
    # The pause: Mon 11–12 and 13–17, Tue 8:30–9:00, less the hour suspended.
    assert october.c4.handling_minutes == 270
    assert october.c3.paused_since is not None
    assert october.c8.merged_into_id == october.c5.pk


def test_breakdown_by_project_adds_up_to_the_total(october):
    w = october.world
    report = figures(w.admin, breakdown="project", now=october.now)
    rows = {g.label: g for g in report.groups}
    assert set(rows) == {"绿色家园", "锦江花园"}
    green, other = rows["绿色家园"], rows["锦江花园"]
    assert (green.received, green.closed, other.received, other.closed) == (5, 3, 1, 1)
    assert green.on_time["reply"] == Rate(3, 4)
    assert other.on_time["resolution"] == Rate(0, 1)
    # 90, 270, 1410: 270 + 0.8 × 1140 = 1182 minutes.
    assert green.handling_p90_minutes == pytest.approx(1182)
    assert other.handling_avg_hours == 38.5
    assert (green.households, other.households) == (2, 1)
    assert green.complaints_per_100_households == 50.0
    assert report.total.received == green.received + other.received
    assert report.total.handling_p90_minutes == pytest.approx(2040)


@pytest.mark.parametrize("breakdown", [b for b in BREAKDOWNS if b != "none"])
def test_every_breakdown_partitions_the_cases(october, breakdown):
    total = figures(october.world.admin, now=october.now).total
    report = figures(october.world.admin, breakdown=breakdown, now=october.now)
    assert report.total.tally == total.tally
    for name in ("received", "closed", "complaints"):
        assert sum(getattr(g, name) for g in report.groups) == getattr(total, name)
    assert sum(g.tally.follow_up_met for g in report.groups) == total.tally.follow_up_met
    assert report.total.handling_p90_minutes == pytest.approx(total.handling_p90_minutes)


def test_breakdowns_by_place_category_and_person(october):
    w = october.world
    by = {b: {g.label: g.received for g in figures(w.admin, breakdown=b, now=october.now).groups} for b in BREAKDOWNS}
    assert by["company"] == {"华宇地产北京公司": 5, "华宇地产成都公司": 1}
    # A case counts at its first unit; c3 and c7 have none.
    assert by["building"] == {"绿色家园 3栋": 1, "绿色家园 1栋": 2, "锦江花园 1栋": 1, "No unit": 2}
    assert by["area"] == {"绿色家园·A区": 2, "绿色家园·B区": 1, "No area": 3}
    assert by["category_root"] == {"工程质量": 2, "公共秩序": 2, "No category": 2}
    assert by["case_type"] == {"Complaint": 2, "Repair": 2, "Inquiry": 1, "Praise": 1}
    assert by["channel"] == {"Hotline": 6}
    assert by["owner"] == {"specialist": 5, "outsider": 1}
    assert by["assignee"] == {"Not assigned": 6}
    assert by["department"] == {"No department": 6}


def test_time_breakdown_uses_each_figures_own_date(october):
    report = figures(october.world.admin, breakdown="week", now=october.now)
    weeks = [g.key for g in report.groups]
    # October cut at Mondays: the first and last weeks are partial.
    assert weeks == ["2025-10-01", "2025-10-06", "2025-10-13", "2025-10-20", "2025-10-27"]
    assert [g.received for g in report.groups] == [0, 0, 2, 1, 3]
    # Closed: c1 (10-09), c2 (10-16), c6 (10-20), c4 (10-28).
    assert [g.closed for g in report.groups] == [0, 1, 1, 1, 1]
    # Answered: c1 10-10, c2 10-16 (dissatisfied), c4 10-28; c6's unreachable end is not "reached".
    assert [g.satisfaction.denominator for g in report.groups] == [0, 1, 1, 0, 1]


def test_period_boundaries_take_the_date_of_each_figure(october):
    w = october.world
    november = figures(w.admin, NOVEMBER, now=october.now).total
    # c7 was received on 10-31 and closed on 11-03: received in October, closed in November.
    assert (november.received, november.closed) == (0, 1)
    assert figures(w.admin, now=october.now).total.closing_rate.numerator == 3
    # c1 was received in September and closed in October.
    september = figures(w.admin, Period(date(2025, 9, 1), date(2025, 10, 1)), now=october.now).total
    assert (september.received, september.closed) == (1, 0)
    # One day: only 10-13 (c2).
    day = figures(w.admin, Period(date(2025, 10, 13), date(2025, 10, 14)), now=october.now).total
    assert day.received == 1


def test_a_project_specialist_counts_only_their_project(october):
    w = october.world
    t = figures(w.specialist, now=october.now).total
    assert (t.received, t.closed) == (5, 3)
    assert t.households == 2
    assert {g.label for g in figures(w.specialist, breakdown="project", now=october.now).groups} == {"绿色家园"}
    assert figures(w.outsider, now=october.now).total.received == 1


def test_a_butler_counts_only_their_area(october):
    w = october.world
    t = figures(w.butler, now=october.now).total
    # Area B holds 3栋 (c2); the other requests are on area A units or without a unit or customer.
    assert (t.received, t.closed, t.households) == (1, 1, 1)
    assert t.on_time["follow_up"] == Rate(0, 2)


def test_narrowing_to_a_company_project_or_area(october):
    w = october.world
    assert figures(w.admin, company=w.other_company.pk, now=october.now).total.received == 1
    assert figures(w.admin, project=w.project.pk, now=october.now).total.received == 5
    assert figures(w.admin, area=w.area_a.pk, now=october.now).total.received == 2
    assert figures(w.manager, project=w.sister_project.pk, now=october.now).total.received == 0


@pytest.mark.parametrize("narrow", ["company", "project", "area"])
def test_narrowing_outside_the_scope_is_not_found(october, narrow):
    w = october.world
    target = {"company": w.other_company, "project": w.other_project, "area": w.area_a}[narrow]
    user = w.butler if narrow == "area" else w.specialist
    with pytest.raises(Http404):
        report_scope_for(user, **{narrow: target.pk})


def test_narrowing_only_goes_down_from_the_readers_level(october):
    w = october.world
    with pytest.raises(Http404):
        report_scope_for(w.specialist, company=w.company.pk)
    with pytest.raises(Http404):
        report_scope_for(w.butler, project=w.project.pk)
    assert report_scope_for(w.specialist, area=w.area_a.pk).level == "area"
    assert report_scope_for(w.manager, company=w.company.pk).level == "company"


def test_a_deadline_still_ahead_is_pending_and_a_passed_one_missed(world, clock):
    clock.set(at(2025, 11, 3, 9, 0))  # Monday
    record(world.specialist, world.project)
    scope = report_scope_for(world.admin)
    week = Period.of("week", date(2025, 11, 3))
    assert compute(scope, week, now=at(2025, 11, 3, 9, 5)).total.on_time["response"] == Rate(0, 0)
    assert compute(scope, week, now=at(2025, 11, 3, 9, 13)).total.on_time["response"] == Rate(0, 1)


def test_a_suspended_case_is_pending_until_it_resumes(world, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    case = record(world.specialist, world.project, case_type=CaseType.INQUIRY)
    clock.set(at(2025, 11, 3, 9, 5))
    case = s.do_suspend_case(world.specialist, case, expected_version=case.version, reason="等业主回电")
    scope = report_scope_for(world.admin)
    week = Period.of("week", date(2025, 11, 3))
    # Weeks later the reply deadline lies in the past, but the clock stood still.
    later = at(2025, 11, 28, 9, 0)
    assert compute(scope, week, now=later).total.on_time["reply"] == Rate(0, 0)
    assert snapshot(scope, now=later)[0].overdue == 0
    clock.set(later)
    s.do_resume_case(world.specialist, case, expected_version=case.version)
    case.refresh_from_db()
    # Resuming moved the deadline by the paused working time: once it passes, it is missed.
    after = case.reply_due + timedelta(minutes=1)
    assert compute(scope, week, now=after).total.on_time["reply"] == Rate(0, 1)


def test_a_follow_up_cancelled_by_reopening_is_not_counted(world, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    case = record(world.specialist, world.project, case_type=CaseType.REPAIR)
    clock.set(at(2025, 11, 3, 10, 0))
    case = close(world.specialist, case)
    clock.set(at(2025, 11, 3, 11, 0))
    s.do_reopen_case(world.specialist, case, expected_version=case.version, reason="业主说没修好")
    clock.set(at(2025, 11, 3, 15, 0))
    close(world.specialist, case)
    assert FollowUp.objects.filter(case=case).count() == 2
    t = compute(report_scope_for(world.admin), Period.of("week", date(2025, 11, 3)), now=at(2025, 11, 10, 9, 0)).total
    # Only the follow-up of the second closing counts (and is overdue by 11-10).
    assert (t.tally.follow_ups, t.on_time["follow_up"]) == (1, Rate(0, 1))
    assert t.reopen_rate == Rate(1, 1)


def test_unknown_handling_time_is_left_out_of_average_and_percentile(october):
    Case.objects.filter(pk=october.c6.pk).update(handling_minutes=None)
    t = figures(october.world.admin, now=october.now).total
    assert t.closed == 4
    assert t.tally.handling_cases == 3
    assert t.handling_avg_hours == round((90 + 1410 + 270) / 3 / 60, 2)


def test_households_count_units_with_a_current_occupancy_on_the_last_day(october):
    w = october.world
    Occupancy.objects.filter(unit=w.unit_a).update(end=date(2025, 10, 15))
    assert figures(w.admin, now=october.now).total.households == 2
    september = Period(date(2025, 9, 1), date(2025, 10, 1))
    assert figures(w.admin, september, now=october.now).total.households == 3


def test_satisfaction_leaves_out_unreachable_customers(world, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    cases = [record(world.specialist, world.project, case_type=CaseType.REPAIR) for _ in range(3)]
    clock.set(at(2025, 11, 3, 10, 0))
    for case in cases:
        close(world.specialist, case)
    clock.set(at(2025, 11, 3, 11, 0))
    follow_up(world.specialist, cases[0], FollowUpOutcome.SATISFIED)
    follow_up(world.specialist, cases[1], FollowUpOutcome.DISSATISFIED, note="态度差")
    follow_up(world.specialist, cases[2], FollowUpOutcome.UNREACHABLE)  # one attempt: still pending
    t = compute(report_scope_for(world.admin), Period.of("week", date(2025, 11, 3)), now=clock.now).total
    assert t.satisfaction == Rate(1, 2)


def test_the_percentile_fallback_interpolates_like_percentile_cont(world, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    minutes = [5, 1, 9, 30, 7, 7, 120, 3, 60, 2, 11]
    for _ in minutes:
        close(world.specialist, record(world.specialist, world.project))
    ids = Case.objects.order_by("pk").values_list("pk", flat=True)
    for pk, m in zip(ids, minutes, strict=True):
        Case.objects.filter(pk=pk).update(handling_minutes=m)
    cases = Case.objects.filter(pk__in=ids)
    for n in range(1, len(minutes) + 1):
        subset = cases.filter(pk__in=list(ids)[:n])
        values = sorted(minutes[:n])
        pos = 0.9 * (n - 1)
        low = int(pos)
        expected = values[low] + (pos - low) * (values[min(low + 1, n - 1)] - values[low])
        assert metrics._percentile_by_window(subset, None)[None] == pytest.approx(expected)
        if connection.vendor == "postgresql":
            cont = subset.aggregate(p=metrics.PercentileCont("handling_minutes", 0.9))["p"]
            assert cont == pytest.approx(expected)


def test_snapshot_counts_the_queue_now(october):
    w = october.world
    rows = snapshot(report_scope_for(w.admin), "project", now=october.now)
    total, green = rows[0], rows[1]
    # Open: c3 (suspended) and c5; c5 is past its resolution and response deadlines.
    assert (total.open, total.suspended, total.overdue, total.response_overdue) == (2, 1, 1, 1)
    # c2's second follow-up is pending and overdue.
    assert (total.follow_ups_pending, total.follow_ups_overdue) == (1, 1)
    assert green.label == "绿色家园" and green.open == 2
    today = snapshot(report_scope_for(w.admin), now=at(2025, 10, 13, 18, 0))[0]
    assert today.received_today == 1


def test_hot_spots_are_clusters_far_above_their_own_history(world, clock):
    clock.set(at(2025, 11, 7, 12, 0))  # Friday of the week 11-03 … 11-09
    week = Period.of("week", date(2025, 11, 3))
    leak = category("工程质量", "渗漏", "卫生间渗漏")

    def cases_on(unit, day, count):
        for i in range(count):
            record(
                world.specialist,
                world.project,
                case_type=CaseType.REPAIR,
                units=[unit],
                category=leak,
                received_at=at(day.year, day.month, day.day, 9, i),
            )

    for k in range(8, 0, -1):
        monday = week.shift("week", -k).start
        cases_on(world.unit_a, monday, 1 if k % 2 == 0 else 0)  # 1栋: 1, 0, 1, 0, … (mean 0.5, σ 0.5)
        cases_on(world.unit_b, monday, 5 if k % 2 == 0 else 6)  # 3栋: 5, 6, 5, 6, … (mean 5.5, σ 0.5)
    cases_on(world.unit_a, date(2025, 11, 4), 5)
    cases_on(world.unit_b, date(2025, 11, 4), 6)
    scope = report_scope_for(world.admin)
    spots = hot_spots(scope, week, "week", ("building", "category", "project"))
    assert [(h.label, h.count, h.mean, h.stddev) for h in spots["building"]] == [("绿色家园 1栋", 5, 0.5, 0.5)]
    # By category (and project) the two buildings add up: 11 this week against 6, 6, 6, … (σ 0).
    assert [(h.label, h.count, h.mean) for h in spots["category"]] == [("工程质量 / 渗漏 / 卫生间渗漏", 11, 6.0)]
    assert [(h.label, h.count) for h in spots["project"]] == [("绿色家园", 11)]
    # 3栋's 6 stays under its threshold of 6.5, and under 6.0 with a bar of one deviation too.
    assert {h.label for h in hot_spots(scope, week, "week", sigmas=1)["building"]} == {"绿色家园 1栋"}
    assert hot_spots(scope, week, "week", min_count=6)["building"] == []
    # Another project's specialist sees none of it.
    assert hot_spots(report_scope_for(world.outsider), week, "week") == {"building": [], "category": []}


def test_a_department_handler_counts_only_the_requests_they_see(october):
    w = october.world
    handler = make_staff("handler", Role.HANDLER, ScopeLevel.PROJECT, project=w.project, department=w.dept)
    assert figures(handler, now=october.now).total.received == 0


@pytest.mark.parametrize(
    ("grain", "day", "expected"),
    [
        ("day", date(2025, 10, 31), (date(2025, 10, 31), date(2025, 11, 1))),
        ("week", date(2025, 10, 31), (date(2025, 10, 27), date(2025, 11, 3))),
        ("month", date(2025, 12, 31), (date(2025, 12, 1), date(2026, 1, 1))),
    ],
)
def test_periods_follow_the_calendar(grain, day, expected):
    period = Period.of(grain, day)
    assert (period.start, period.end) == expected
    assert period.shift(grain, 1).start == period.end
    assert Period.last(grain, 12, day).buckets(grain)[-1] == period
    assert len(Period.last(grain, 12, day).buckets(grain)) == 12
