"""SLA deadlines in working time: holidays, the leak rule, after-hours arrivals, pauses and follow-ups."""

from datetime import timedelta

import pytest

from guanjia.cases import services as s
from guanjia.cases.choices import CaseStatus, CaseType, SlaState
from guanjia.cases.models import Case, CompanyCalendar, SlaPolicy
from guanjia.cases.sla import calendar_config_errors
from guanjia.core.calendar import WorkingHours

from .conftest import at, category, record


def test_seeded_policies_are_ordered_with_a_default_last(db):
    names = list(SlaPolicy.objects.values_list("name", flat=True))
    assert names[-1] == "默认" and len(names) >= 3


def test_complaint_at_1830_before_national_day_is_due_in_working_time_after_the_holiday(cw, clock):
    # 2025-09-30 is the last working day before the National Day and Mid-Autumn holiday (10-01 … 10-08).
    clock.set(at(2025, 9, 30, 18, 30))
    case = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    assert case.sla_policy.name == "投诉 24 小时"
    # Response: 12 minutes after the next start of work, 10-09 08:30.
    assert case.response_due == at(2025, 10, 9, 8, 42)
    # Resolution: 24 working hours = 7.5 (Thu 10-09) + 7.5 (Fri) + 7.5 (Sat 10-11, adjusted workday) + 1.5 (Sun).
    assert case.resolution_due == at(2025, 10, 12, 10, 30)


def test_leak_is_due_within_four_working_hours(cw, clock):
    clock.set(at(2025, 11, 3, 10, 0))
    case = record(
        cw.specialist, cw.project, case_type=CaseType.REPAIR, category=category("工程质量", "渗漏", "卫生间渗漏")
    )
    assert case.sla_policy.name == "渗漏 4 小时"
    # 10:00–12:00 and 13:00–15:00: the lunch break does not count.
    assert case.resolution_due == at(2025, 11, 3, 15, 0)
    assert case.response_due == at(2025, 11, 3, 10, 12)


def test_after_hours_request_must_be_answered_twelve_minutes_after_work_starts(cw, clock):
    clock.set(at(2025, 11, 7, 22, 0))  # Friday night; the service centre opens at 9:00 on Saturday.
    case = record(cw.specialist, cw.project, case_type=CaseType.INQUIRY)
    assert case.response_due == at(2025, 11, 8, 9, 12)
    assert Case.objects.response_overdue(now=at(2025, 11, 8, 9, 13)).filter(pk=case.pk).exists()
    assert not Case.objects.response_overdue(now=at(2025, 11, 8, 9, 11)).filter(pk=case.pk).exists()


def test_pause_and_resume_move_the_deadline_by_exactly_the_paused_working_time(cw, clock):
    clock.set(at(2025, 11, 3, 9, 0))  # Monday
    case = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    assert case.resolution_due == at(2025, 11, 6, 10, 30)
    clock.set(at(2025, 11, 3, 10, 0))
    case = s.do_suspend_case(cw.specialist, case, expected_version=1, reason="等业主提供照片")
    assert case.paused_since == at(2025, 11, 3, 10, 0)
    clock.set(at(2025, 11, 3, 15, 0))
    case = s.do_resume_case(cw.specialist, case, expected_version=2)
    # Paused 10:00–12:00 and 13:00–15:00: four working hours.
    assert case.total_paused == timedelta(hours=4)
    assert case.resolution_due == at(2025, 11, 6, 15, 30)
    assert case.events.last().data == {"paused_seconds": 4 * 3600}


def test_suspended_cases_are_never_overdue_and_open_ones_are_found_by_query(cw, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    late = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    paused = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    s.do_suspend_case(cw.specialist, paused, expected_version=1, reason="等业主回复")
    after = at(2025, 11, 6, 11, 0)
    assert list(Case.objects.overdue(now=after)) == [late]
    assert list(Case.objects.due_soon(within=timedelta(hours=1), now=at(2025, 11, 6, 10, 0))) == [late]


def test_follow_up_is_created_on_close_due_twelve_working_hours_later(cw, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    case = record(cw.specialist, cw.project, case_type=CaseType.REPAIR)
    clock.set(at(2025, 11, 3, 16, 0))
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    follow_up = case.follow_ups.get()
    # 16–17 Mon (1 h), Tue 7.5 h, Wed 8:30–12:00 (3.5 h).
    assert follow_up.due == at(2025, 11, 5, 12, 0)
    assert case.events.last().data["follow_up"] == follow_up.pk


def test_handling_time_counts_working_minutes_without_lunch_nights_or_the_pause(cw, clock):
    clock.set(at(2025, 11, 3, 11, 0))  # Monday
    case = record(cw.specialist, cw.project, case_type=CaseType.REPAIR)
    clock.set(at(2025, 11, 3, 14, 0))
    case = s.do_suspend_case(cw.specialist, case, expected_version=1, reason="等业主在家")
    clock.set(at(2025, 11, 3, 15, 0))
    case = s.do_resume_case(cw.specialist, case, expected_version=2)
    assert case.handling_minutes is None
    clock.set(at(2025, 11, 4, 9, 0))
    case = s.do_close_case(cw.specialist, case, expected_version=3)
    # Mon 11–12 and 13–17 (5 h), Tue 8:30–9:00 (0.5 h), less the hour suspended.
    assert case.handling_minutes == 270


def test_closing_late_breaches_the_agreement(cw, clock):
    clock.set(at(2025, 11, 3, 10, 0))
    case = record(cw.specialist, cw.project, case_type=CaseType.REPAIR, category=category("工程质量", "渗漏"))
    clock.set(at(2025, 11, 4, 10, 0))
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    assert case.sla_state == SlaState.BREACHED


def test_reopening_restarts_the_resolution_clock(cw, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    case = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    clock.set(at(2025, 11, 10, 9, 0))
    case = s.do_reopen_case(cw.specialist, case, expected_version=2, reason="漏水复发")
    assert case.status == CaseStatus.REOPENED and case.sla_state == SlaState.RUNNING
    assert case.resolution_due == at(2025, 11, 13, 10, 30)


def test_company_calendar_closures_and_policy_hours_are_used(cw, clock):
    CompanyCalendar.objects.create(company=cw.company, hours=WorkingHours.default().to_dict(), closures=["2025-11-04"])
    clock.set(at(2025, 11, 3, 16, 0))
    case = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    # Mon 16–17 (1 h), Tue closed, Wed 7.5, Thu 7.5, Fri 7.5 → 23.5, then 0.5 h on Saturday from 9:00.
    assert case.resolution_due == at(2025, 11, 8, 9, 30)
    policy = SlaPolicy.objects.get(name="投诉 24 小时")
    policy.calendar = WorkingHours.round_the_clock().to_dict()
    policy.save()  # seen by the next intake although policies are kept in memory (cases/config.py)
    case = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    assert case.resolution_due == at(2025, 11, 4, 16, 0)


def test_complaint_handed_to_the_property_company_gets_a_notice_deadline(cw, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    case = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    assert case.notice_due is None
    case = s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.property_dept)
    # Eight working hours: Mon 9–12, 13–17 (7 h), Tue 8:30–9:30.
    assert case.notice_due == at(2025, 11, 4, 9, 30)


@pytest.mark.parametrize(
    ("hours", "closures", "field"),
    [({"mon": [["17:00", "08:00"]]}, [], "hours"), ({}, ["2025-13-01"], "closures"), ({"monday": []}, [], "hours")],
)
def test_bad_calendar_configuration_names_the_field(hours, closures, field):
    assert field in calendar_config_errors(hours, closures, [])
