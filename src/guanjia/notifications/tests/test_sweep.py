"""The SLA sweep: each missed deadline is recorded and notified once per level, to the right people."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from guanjia.cases import services as s
from guanjia.cases.choices import CaseType, SlaState
from guanjia.cases.models import SlaPolicy
from guanjia.notifications import sweep as sweep_module
from guanjia.notifications.choices import DeadlineKind, NotificationKind
from guanjia.notifications.models import Notification, SlaBreach
from guanjia.notifications.sweep import sweep_sla

from .conftest import at, record

MONDAY_9 = at(2025, 11, 3, 9, 0)  # complaint: respond by 9:12, plan by Tue 9:30, resolve by Thu 11:30


def breaches(case, kind=None):
    rows = SlaBreach.objects.filter(case=case)
    if kind:
        rows = rows.filter(kind=kind)
    return sorted(rows.values_list("kind", "level"))


def told(case, kind=None):
    rows = Notification.objects.filter(case=case)
    if kind:
        rows = rows.filter(kind=kind)
    return sorted(rows.values_list("recipient__username", flat=True))


@pytest.fixture
def complaint(nw, clock):
    # Own policy, so the deadlines do not depend on the seeded ones.
    SlaPolicy.objects.create(
        name="投诉",
        sort=0,
        case_type=CaseType.COMPLAINT,
        response_minutes=12,
        plan_minutes=8 * 60,
        resolution_minutes=24 * 60,
    )
    clock.set(MONDAY_9)
    return record(nw.specialist, nw.project, route=False)


def test_a_missed_response_is_recorded_and_notified_once_even_when_the_sweep_runs_twice(nw, complaint):
    first = sweep_sla(at(2025, 11, 3, 9, 20))
    assert breaches(complaint) == [(DeadlineKind.RESPONSE, 1)]
    assert told(complaint) == ["specialist"]
    assert first.breaches == {(DeadlineKind.RESPONSE, 1): 1}

    again = sweep_sla(at(2025, 11, 3, 9, 25))
    assert again.recorded == 0 and again.notifications == 0
    assert breaches(complaint) == [(DeadlineKind.RESPONSE, 1)]
    assert Notification.objects.count() == 1
    complaint.refresh_from_db()
    assert complaint.sla_state == SlaState.BREACHED


def test_team_leads_hear_after_two_hours_and_the_manager_after_a_day(nw, complaint):
    sweep_sla(at(2025, 11, 3, 9, 20))
    sweep_sla(at(2025, 11, 3, 11, 13))
    assert breaches(complaint, DeadlineKind.RESPONSE) == [(DeadlineKind.RESPONSE, 1), (DeadlineKind.RESPONSE, 2)]
    assert told(complaint, NotificationKind.SLA_ESCALATED) == ["company_lead", "team_lead"]
    sweep_sla(at(2025, 11, 4, 9, 13))
    assert (DeadlineKind.RESPONSE, 3) in breaches(complaint)
    manager_notes = Notification.objects.filter(recipient=nw.manager, case=complaint)
    assert manager_notes.count() == 1 and manager_notes.get().by_sms


def test_a_late_sweep_records_every_level_once_and_tells_only_this_company(nw, complaint):
    sweep_sla(at(2025, 11, 6, 9, 0))
    expected = [(kind, level) for kind in (DeadlineKind.PLAN, DeadlineKind.RESPONSE) for level in (1, 2, 3)]
    assert breaches(complaint) == expected
    recipients = set(told(complaint))
    assert recipients == {"specialist", "team_lead", "company_lead", "manager"}
    # Other projects' and companies' supervisors, and group-wide staff, are not this case's escalation line.
    assert not recipients & {"sister_lead", "other_lead", "other_manager", "group_lead", "admin"}
    # One notification per person per breach: 2 deadlines × (owner + 2 leads + manager).
    assert Notification.objects.filter(case=complaint).count() == 2 * 4

    sweep_sla(at(2025, 11, 6, 9, 5))
    assert breaches(complaint) == expected
    assert Notification.objects.filter(case=complaint).count() == 8


def test_the_assignee_is_told_with_the_owner(nw, complaint, clock):
    clock.set(at(2025, 11, 3, 9, 5))
    s.do_dispatch_case(nw.specialist, complaint, expected_version=1, department=nw.dept, assignee=nw.handler)
    sweep_sla(at(2025, 11, 4, 10, 0))  # the plan (Tue 9:30) is missed
    assert told(complaint, NotificationKind.SLA_OVERDUE) == ["handler", "specialist"]


def test_a_suspended_case_is_not_breached(nw, complaint, clock):
    clock.set(at(2025, 11, 3, 9, 5))
    s.do_suspend_case(nw.specialist, complaint, expected_version=1, reason="等业主提供照片")
    result = sweep_sla(at(2025, 11, 10, 9, 0))
    assert result.recorded == 0
    assert not Notification.objects.exists()


def test_a_responded_case_is_not_breached_for_response(nw, complaint, clock):
    clock.set(at(2025, 11, 3, 9, 5))
    s.do_dispatch_case(nw.specialist, complaint, expected_version=1, department=nw.dept)
    sweep_sla(at(2025, 11, 3, 17, 0))
    assert breaches(complaint) == []
    sweep_sla(at(2025, 11, 4, 10, 0))
    assert breaches(complaint) == [(DeadlineKind.PLAN, 1)]


def test_closed_cases_are_not_breached_for_case_deadlines(nw, complaint, clock):
    clock.set(at(2025, 11, 3, 9, 5))
    s.do_close_case(nw.specialist, complaint, expected_version=1)
    sweep_sla(at(2025, 11, 4, 9, 0))
    assert DeadlineKind.RESPONSE not in dict(breaches(complaint))


def test_an_overdue_follow_up_call_is_told_to_the_owner_once(nw, complaint, clock):
    clock.set(at(2025, 11, 3, 9, 5))
    s.do_close_case(nw.specialist, complaint, expected_version=1)
    due = complaint.follow_ups.get().due
    sweep_sla(due - timedelta(minutes=1))
    assert breaches(complaint) == []
    sweep_sla(due + timedelta(minutes=1))
    sweep_sla(due + timedelta(days=3))
    assert breaches(complaint) == [(DeadlineKind.FOLLOW_UP, 1)]
    assert told(complaint, NotificationKind.FOLLOW_UP_OVERDUE) == ["specialist"]


def test_a_reopened_case_can_be_breached_again(nw, complaint, clock):
    sweep_sla(at(2025, 11, 6, 12, 0))  # resolution (Thu 11:30) missed
    assert (DeadlineKind.RESOLUTION, 1) in breaches(complaint)
    clock.set(at(2025, 11, 6, 13, 0))
    complaint.refresh_from_db()
    complaint = s.do_close_case(nw.specialist, complaint, expected_version=complaint.version)
    complaint = s.do_reopen_case(nw.specialist, complaint, expected_version=complaint.version, reason="业主仍不满意")
    sweep_sla(at(2025, 11, 20, 9, 0))
    rounds = SlaBreach.objects.filter(case=complaint, kind=DeadlineKind.RESOLUTION, level=1).values_list("round")
    assert sorted(r for (r,) in rounds) == [0, 1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_two_concurrent_sweeps_record_and_notify_each_breach_once(nw, complaint, monkeypatch):
    barrier = threading.Barrier(2, timeout=10)
    original = sweep_module._insert
    calls = []

    def insert_together(*args, **kwargs):
        calls.append(args[:2])
        # Both sweeps have found the same new breaches; now they insert them at the same moment.
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return original(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_insert", insert_together)
    results, errors = [], []

    def run():
        try:
            results.append(sweep_sla(at(2025, 11, 6, 9, 0)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Both sweeps found all 6 breaches as new and tried to insert each; one insert won each time.
    assert len(calls) == 12 and not barrier.broken
    assert sum(r.recorded for r in results) == 6
    assert SlaBreach.objects.count() == 6
    assert Notification.objects.filter(case=complaint).count() == 8


# --- the written notice to the property company ------------------------------------------------


@pytest.fixture
def handed_to_property(nw, complaint, clock):
    """The complaint handed to the property company at 9:05: the notice is due Tuesday 9:30 (8 working hours)."""
    clock.set(at(2025, 11, 3, 9, 5))
    case = s.do_dispatch_case(
        nw.specialist, complaint, expected_version=1, department=nw.property_dept, assignee=nw.property_handler
    )
    assert case.notice_due == at(2025, 11, 4, 9, 30)
    return case


def test_a_late_notice_is_recorded_once_and_escalated_by_level(nw, handed_to_property):
    case = handed_to_property
    sweep_sla(at(2025, 11, 4, 9, 29))
    assert breaches(case, DeadlineKind.NOTICE) == []
    first = sweep_sla(at(2025, 11, 4, 9, 31))
    assert breaches(case, DeadlineKind.NOTICE) == [(DeadlineKind.NOTICE, 1)]
    assert first.breaches[(DeadlineKind.NOTICE, 1)] == 1
    breach = SlaBreach.objects.get(case=case, kind=DeadlineKind.NOTICE)
    told_now = Notification.objects.filter(dedupe_key=f"sla:{breach.pk}")
    assert sorted(told_now.values_list("recipient__username", flat=True)) == ["property_handler", "specialist"]
    assert {n.kind for n in told_now} == {NotificationKind.SLA_OVERDUE}

    again = sweep_sla(at(2025, 11, 4, 9, 40))
    assert again.recorded == 0 and again.notifications == 0
    assert breaches(case, DeadlineKind.NOTICE) == [(DeadlineKind.NOTICE, 1)]

    sweep_sla(at(2025, 11, 4, 11, 31))
    sweep_sla(at(2025, 11, 5, 9, 31))
    sweep_sla(at(2025, 11, 5, 9, 35))
    assert breaches(case, DeadlineKind.NOTICE) == [(DeadlineKind.NOTICE, level) for level in (1, 2, 3)]
    # A late notice is internal: it does not breach the agreement with the customer.
    case.refresh_from_db()
    assert case.sla_state == SlaState.RUNNING


def test_a_notice_recorded_in_time_is_never_breached(nw, handed_to_property, clock):
    clock.set(at(2025, 11, 3, 15, 0))
    s.do_record_notice(nw.specialist, handed_to_property, expected_version=2, note="书面通知单 WY-118")
    result = sweep_sla(at(2025, 11, 6, 9, 0))
    assert breaches(handed_to_property, DeadlineKind.NOTICE) == []
    assert DeadlineKind.NOTICE not in {kind for kind, _level in result.breaches}


def test_a_notice_recorded_late_stops_the_escalation(nw, handed_to_property, clock):
    sweep_sla(at(2025, 11, 4, 9, 31))
    clock.set(at(2025, 11, 4, 10, 0))
    s.do_record_notice(nw.specialist, handed_to_property, expected_version=2, note="书面通知单 WY-118")
    sweep_sla(at(2025, 11, 6, 9, 0))
    sweep_sla(at(2025, 11, 6, 9, 5))
    assert breaches(handed_to_property, DeadlineKind.NOTICE) == [(DeadlineKind.NOTICE, 1)]


def test_a_suspended_complaint_is_not_breached_for_its_notice(nw, handed_to_property, clock):
    clock.set(at(2025, 11, 3, 10, 0))
    s.do_suspend_case(nw.specialist, handed_to_property, expected_version=2, reason="等业主提供照片")
    sweep_sla(at(2025, 11, 10, 9, 0))
    assert breaches(handed_to_property, DeadlineKind.NOTICE) == []
