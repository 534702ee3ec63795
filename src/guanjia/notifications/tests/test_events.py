"""Case events tell the people concerned: assignees, departments, owners, team leads and managers."""

import pytest

from guanjia.cases import services as s
from guanjia.cases.models import CaseEvent
from guanjia.cases.tasks import notify_case_event
from guanjia.notifications.choices import NotificationKind
from guanjia.notifications.models import Notification

from .conftest import record


@pytest.fixture
def run_hooks(django_capture_on_commit_callbacks):
    """Run the after-commit hooks of whatever happens inside the block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def told(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_dispatching_to_a_person_tells_that_person_not_the_dispatcher(nw, run_hooks):
    case = record(nw.specialist, nw.project, route=False)
    with run_hooks():
        s.do_dispatch_case(nw.specialist, case, expected_version=1, department=nw.dept, assignee=nw.handler)
    assert told(NotificationKind.CASE_ASSIGNED) == ["handler"]
    note = Notification.objects.get()
    assert note.case == case and case.number in note.title and note.link == f"/cases/{case.pk}/"


def test_dispatching_to_a_department_tells_its_members_who_see_the_project(nw, run_hooks):
    case = record(nw.specialist, nw.project, route=False)
    with run_hooks():
        s.do_dispatch_case(nw.specialist, case, expected_version=1, department=nw.property_dept)
    assert told(NotificationKind.CASE_ASSIGNED) == ["property_handler"]


def test_splitting_tells_each_task_assignee(nw, run_hooks):
    case = record(nw.specialist, nw.project, route=False)
    with run_hooks():
        s.do_split_case(
            nw.specialist,
            case,
            expected_version=1,
            parts=[{"title": "检查防水", "assignee": nw.handler}, {"title": "核算费用", "department": nw.cost_dept}],
        )
    assert told(NotificationKind.TASK_ASSIGNED) == ["cost_handler", "handler"]
    assert Notification.objects.filter(recipient=nw.handler, title__contains="检查防水").exists()


def test_a_dissatisfied_follow_up_tells_the_owner_and_the_team_leads(nw, run_hooks):
    case = record(nw.specialist, nw.project, route=False)
    case = s.do_close_case(nw.specialist, case, expected_version=1)
    with run_hooks():
        s.do_record_follow_up(
            nw.specialist2,
            case.follow_ups.get(),
            expected_version=2,
            outcome="dissatisfied",
            note="维修后仍漏水",
        )
    assert told(NotificationKind.CASE_REOPENED) == ["company_lead", "specialist", "team_lead"]
    assert "维修后仍漏水" in Notification.objects.filter(recipient=nw.specialist).get().body


def test_a_satisfied_follow_up_tells_nobody(nw, run_hooks):
    case = record(nw.specialist, nw.project, route=False)
    case = s.do_close_case(nw.specialist, case, expected_version=1)
    with run_hooks():
        s.do_record_follow_up(nw.specialist2, case.follow_ups.get(), expected_version=2, outcome="satisfied")
    assert not Notification.objects.exists()


def test_a_risk_flag_escalates_at_once_to_team_leads_and_this_companys_manager(nw, run_hooks, mailoutbox):
    with run_hooks():
        record(nw.front_desk, nw.project, route=False, risk_media=True, risk_group=True)
    told_about_risk = told(NotificationKind.RISK_FLAGGED)
    assert told_about_risk == ["company_lead", "manager", "team_lead"]
    note = Notification.objects.get(recipient=nw.manager)
    assert note.by_sms and note.delivered_at
    assert sorted(m.to[0] for m in mailoutbox) == ["manager@example.com", "team_lead@example.com"]


def test_a_case_without_risk_flags_escalates_nothing(nw, run_hooks):
    with run_hooks():
        record(nw.front_desk, nw.project, route=False)
    assert not Notification.objects.exists()


def test_running_the_hook_twice_notifies_nobody_twice(nw, run_hooks):
    case = record(nw.specialist, nw.project, route=False)
    with run_hooks():
        s.do_dispatch_case(nw.specialist, case, expected_version=1, assignee=nw.handler)
    notify_case_event(CaseEvent.objects.filter(case=case).last().pk)
    assert Notification.objects.count() == 1


def test_a_missing_event_is_ignored(db):
    notify_case_event(999999)
    assert not Notification.objects.exists()
