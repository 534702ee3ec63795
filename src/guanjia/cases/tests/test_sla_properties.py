"""Properties of SLA deadlines, driven through the real services with random times and pauses.

Receipt times are drawn from 2024–2026, half of them around the Spring Festival and National Day
holidays and their adjusted working weekends (调休). Each example records a request, may answer the
customer first, dispatches it, suspends and resumes it up to twice, closes and reopens it, and
checks after every step what must always hold:

* a deadline never lies before the clock start, and lies in working time of the calendar: the
  policy's target of working time after the start (a zero target: the next start of work);
* dispatching recomputes the deadlines but never moves a response deadline already met;
* suspend + resume moves every unmet deadline later by exactly the working time of the pause and
  leaves the met ones (and those already missed when the pause began) alone;
* closing judges the agreement from the stored deadlines, and the handling time is the working
  time from receipt to resolution minus the pauses;
* reopening restarts the resolution clock at the moment of reopening.
"""

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanjia.cases import services as s
from guanjia.cases.choices import CaseStatus, CaseType, EventKind, Severity, SlaState, Visibility
from guanjia.cases.models import SlaPolicy
from guanjia.cases.sla import calendar_of, policy_of
from guanjia.core.calendar import WorkingHours

from .conftest import SHANGHAI, category, record

PROPERTY = settings(
    max_examples=50,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Holiday seasons with their adjusted working weekends, a few days either side.
HOLIDAY_SEASONS = [
    (date(2024, 2, 2), date(2024, 2, 19)),  # Spring Festival 2024; Sundays 02-04 and 02-18 are working days
    (date(2024, 9, 27), date(2024, 10, 13)),  # National Day 2024; 09-29 and Saturday 10-12 are working days
    (date(2025, 1, 24), date(2025, 2, 9)),  # Spring Festival 2025; 01-26 and Saturday 02-08 are working days
    (date(2025, 9, 26), date(2025, 10, 12)),  # National Day and Mid-Autumn 2025; 09-28 and Saturday 10-11
    (date(2026, 2, 12), date(2026, 3, 1)),  # Spring Festival 2026; Saturdays 02-14 and 02-28
    (date(2026, 9, 30), date(2026, 10, 11)),  # National Day 2026; Saturday 10-10
]

season_days = st.sampled_from(HOLIDAY_SEASONS).flatmap(
    lambda season: st.integers(0, (season[1] - season[0]).days).map(lambda n: season[0] + timedelta(days=n))
)
any_days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))
receipts = st.builds(
    lambda day, minute: datetime.combine(day, time(minute // 60, minute % 60), tzinfo=SHANGHAI),
    st.one_of(season_days, any_days),
    st.integers(0, 24 * 60 - 1),
)
minutes = st.integers(0, 3 * 24 * 60).map(lambda m: timedelta(minutes=m))
pauses = st.lists(
    st.tuples(minutes, st.integers(0, 9 * 24 * 60).map(lambda m: timedelta(minutes=m))), min_size=0, max_size=2
)
requests = st.fixed_dictionaries(
    {
        "case_type": st.sampled_from(CaseType.values),
        "severity": st.sampled_from(Severity.values),
        "leak": st.booleans(),
    }
)

# deadline field → (policy target field, field that says it was met)
CLOCKS = {
    "response_due": ("response_minutes", "responded_at"),
    "plan_due": ("plan_minutes", "plan_confirmed_at"),
    "resolution_due": ("resolution_minutes", "resolved_at"),
    "reply_due": ("reply_minutes", "replied_at"),
    "notice_due": ("notice_minutes", "noticed_at"),
}


@pytest.fixture
def policies(db):
    """Besides the seeded ones: a zero response target, and a round-the-clock hotline with its own hours."""
    added = [
        SlaPolicy.objects.create(
            name="重大 立即响应",
            sort=0,
            severity=Severity.MAJOR,
            response_minutes=0,
            plan_minutes=60,
            resolution_minutes=480,
        ),
        SlaPolicy.objects.create(
            name="求助 24 小时热线",
            sort=1,
            case_type=CaseType.HELP,
            response_minutes=5,
            resolution_minutes=4 * 60,
            calendar=WorkingHours.round_the_clock().to_dict(),
        ),
    ]
    yield added
    # Deleted through the ORM (not just rolled back), so that any in-process copy of the policies is dropped too.
    for policy in added:
        policy.delete()


def in_working_time(cal, moment: datetime) -> bool:
    """Inside an opening range or exactly at its end (a budget may run out at 12:00 or 17:00, never at 13:00)."""
    local = moment.astimezone(cal.tz)
    days = (local.date(), local.date() - timedelta(days=1))  # a range may end at 24:00
    return any(a < local <= b for day in days for a, b in cal.ranges_on(day))


def deadlines(case) -> dict[str, datetime | None]:
    return {field: getattr(case, field) for field in CLOCKS}


def met(case, field: str) -> bool:
    return getattr(case, CLOCKS[field][1]) is not None


def assert_deadlines_from_the_clock_start(case) -> None:
    """Each deadline is the policy's target (plus the paused time) of working time after the clock start."""
    cal, policy, start = calendar_of(case), policy_of(case), case.sla_started_at
    for field, due in deadlines(case).items():
        if due is None:
            continue
        budget = timedelta(minutes=getattr(policy, CLOCKS[field][0])) + case.total_paused
        assert due >= start, field
        if budget:
            assert in_working_time(cal, due), (field, due)
            assert cal.working_time_between(start, due) == budget, field
        else:
            assert due == cal.next_open(start) and cal.is_open(due), field


def new_case(cw, clock, received_at, request):
    clock.set(received_at)
    extra = {"category": category("工程质量", "渗漏", "卫生间渗漏")} if request["leak"] else {}
    case = record(
        cw.specialist, cw.project, case_type=request["case_type"], severity=request["severity"], route=False, **extra
    )
    assert case.sla_started_at == received_at and case.total_paused == timedelta(0)
    assert case.sla_state == SlaState.RUNNING and case.notice_due is None
    return case


@PROPERTY
@given(received_at=receipts, request=requests)
def test_recording_sets_every_deadline_in_working_time_after_receipt(cw, clock, policies, received_at, request):
    case = new_case(cw, clock, received_at, request)
    assert case.response_due is not None and case.resolution_due is not None
    assert_deadlines_from_the_clock_start(case)
    # The response target is the shortest, so it is never due after the resolution.
    assert case.response_due <= case.resolution_due


@settings(PROPERTY, max_examples=60)
@given(
    received_at=receipts,
    request=requests,
    answer_after=st.none() | minutes,
    dispatch_after=minutes,
    to_property=st.booleans(),
    pause_plan=pauses,
    close_after=minutes,
    reopen_after=minutes,
)
def test_deadlines_hold_through_dispatch_pauses_closing_and_reopening(
    cw,
    clock,
    policies,
    received_at,
    request,
    answer_after,
    dispatch_after,
    to_property,
    pause_plan,
    close_after,
    reopen_after,
):
    case = new_case(cw, clock, received_at, request)
    now = received_at

    # The customer may be answered before dispatch: the response is met then, at that moment.
    if answer_after is not None:
        now = clock.set(now + answer_after)
        s.do_add_note(cw.specialist, case, note="已联系业主", visibility=Visibility.CUSTOMER)
        case.refresh_from_db()
        assert case.responded_at == now

    # Dispatch: deadlines recomputed from the same start; a met response deadline stays where it was.
    before = deadlines(case)
    answered_at = case.responded_at
    now = clock.set(now + dispatch_after)
    department = cw.property_dept if to_property else cw.dept
    case = s.do_dispatch_case(cw.specialist, case, expected_version=case.version, department=department)
    assert case.response_due == before["response_due"]
    assert case.responded_at == (answered_at or now)
    notice = to_property and request["case_type"] == CaseType.COMPLAINT
    assert (case.notice_due is not None) == notice
    assert_deadlines_from_the_clock_start(case)

    # Suspend and resume: unmet deadlines move by exactly the paused working time, the others stay.
    cal = calendar_of(case)
    paused_total = timedelta(0)
    for pause_after, length in pause_plan:
        paused_at = clock.set(now + pause_after)
        case = s.do_suspend_case(cw.specialist, case, expected_version=case.version, reason="等业主在家")
        assert case.sla_state == SlaState.PAUSED and case.paused_since == paused_at
        before = deadlines(case)
        was_met = {field: met(case, field) for field in CLOCKS}
        now = clock.set(paused_at + length)
        case = s.do_resume_case(cw.specialist, case, expected_version=case.version)
        pause = cal.working_time_between(paused_at, now)
        paused_total += pause
        assert case.total_paused == paused_total and case.sla_state == SlaState.RUNNING
        assert case.events.last().data == {"paused_seconds": pause.total_seconds()}
        for field, old in before.items():
            new = getattr(case, field)
            if old is None or was_met[field] or old <= paused_at:
                assert new == old, field
            else:
                assert new >= old and cal.working_time_between(old, new) == pause, field
                assert cal.working_time_between(now, new) == cal.working_time_between(paused_at, old), field
                assert in_working_time(cal, new), field

    # Close: the verdict follows from the stored deadlines; handling time leaves the pauses out.
    now = clock.set(now + close_after)
    case = s.do_close_case(cw.specialist, case, expected_version=case.version)
    assert case.resolved_at == case.closed_at == now
    late = case.responded_at > case.response_due or case.resolved_at > case.resolution_due
    assert case.sla_state == (SlaState.BREACHED if late else SlaState.MET)
    worked = cal.working_time_between(case.received_at, case.resolved_at) - paused_total
    assert case.handling_minutes == max(0, int(worked.total_seconds() // 60))

    # Reopen: the resolution clock starts again from the reopening, without the old pauses.
    response_due, responded_at = case.response_due, case.responded_at
    now = clock.set(now + reopen_after)
    case = s.do_reopen_case(cw.specialist, case, expected_version=case.version, reason="业主再次来电")
    assert case.status == CaseStatus.REOPENED and case.events.last().kind == EventKind.REOPENED
    assert case.sla_started_at == now and case.total_paused == timedelta(0)
    assert case.resolved_at is None and case.closed_at is None and case.sla_state == SlaState.RUNNING
    assert (case.response_due, case.responded_at) == (response_due, responded_at)
    resolution = timedelta(minutes=policy_of(case).resolution_minutes)
    assert case.resolution_due >= now
    assert cal.working_time_between(now, case.resolution_due) == resolution
    assert in_working_time(cal, case.resolution_due)
