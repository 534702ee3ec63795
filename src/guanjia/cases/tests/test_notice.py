"""The written notice to the property company (8 working hours for a complaint handed to it).

Recording it in the service, the API and the console; every refusal; its clock; and the pause rule.
"""

from datetime import timedelta

import pytest
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from guanjia.cases import schemas, views
from guanjia.cases import services as s
from guanjia.cases.choices import CaseStatus, CaseType, EventKind, Visibility
from guanjia.cases.errors import CaseConflict, CaseTransitionError
from guanjia.cases.models import Case
from guanjia.cases.sla import calendar_of

from .conftest import at, record
from .test_api import api, errors_of, ok, problem_of  # noqa: F401 - the API client fixture and helpers

MONDAY_9 = at(2025, 11, 3, 9, 0)
# Eight working hours from Monday 9:00: Mon 9–12, 13–17 (7 h), Tue 8:30–9:30.
NOTICE_DUE = at(2025, 11, 4, 9, 30)
SENT = "书面通知单 WY-2025-118，已当面交物业项目经理"


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are checked in English (the console's default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def complaint(cw, clock):
    """A complaint against the property company, handed to it: version 2, notice due Tuesday 9:30."""
    clock.set(MONDAY_9)
    case = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT, description="保洁不到位，楼道垃圾三天没清")
    case = s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.property_dept)
    assert case.notice_due == NOTICE_DUE and case.noticed_at is None
    return case


def unchanged(case, version=2):
    case.refresh_from_db()
    assert case.noticed_at is None and case.version == version
    assert not case.events.filter(kind=EventKind.NOTICE_SENT).exists()


def clock_of(case, name="notice"):
    return next(c for c in schemas.sla_clocks(case) if c["name"] == name)


def page_clock_of(case, now):
    return views.sla_clocks(case, now)[-1]  # the notice is the last row


# --- the service ------------------------------------------------------------------------------


def test_recording_the_notice_in_time_meets_the_clock_and_writes_an_internal_event(cw, complaint, clock):
    assert clock_of(complaint)["state"] == "running"
    clock.set(at(2025, 11, 3, 11, 0))
    case = s.do_record_notice(cw.specialist, complaint, expected_version=2, note=f"  {SENT}  ")
    assert case.noticed_at == at(2025, 11, 3, 11, 0) and case.version == 3
    assert case.status == CaseStatus.DISPATCHED
    event = case.events.last()
    assert (event.kind, event.actor, event.visibility, event.note) == (
        EventKind.NOTICE_SENT,
        cw.specialist,
        Visibility.INTERNAL,
        SENT,
    )
    assert event.from_status == event.to_status == CaseStatus.DISPATCHED
    assert event.data["late"] is False
    assert clock_of(case) == {"name": "notice", "due": NOTICE_DUE, "done_at": case.noticed_at, "state": "met"}
    assert page_clock_of(case, at(2025, 11, 5, 9, 0)).state == "met"


def test_a_late_notice_is_recorded_and_shown_as_late(cw, complaint, clock):
    clock.set(at(2025, 11, 4, 10, 0))
    assert page_clock_of(complaint, clock.now).state == "overdue"
    assert clock_of(complaint)["state"] == "overdue"
    case = s.do_record_notice(cw.team_lead, complaint, expected_version=2, note=SENT)
    assert case.events.last().data["late"] is True
    assert clock_of(case)["state"] == "breached"
    assert page_clock_of(case, clock.now).state == "late"


def test_the_first_contact_owner_may_record_it_whatever_their_role(cw, clock):
    clock.set(MONDAY_9)
    case = record(cw.front_desk, cw.project, case_type=CaseType.COMPLAINT)
    case = s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.property_dept)
    case = s.do_record_notice(cw.front_desk, case, expected_version=2, note=SENT)
    assert case.noticed_at == MONDAY_9


@pytest.mark.parametrize("who", ["property_handler", "inspector", "front_desk"])
def test_roles_that_do_not_handle_requests_may_not_record_it(cw, complaint, who):
    # All three see the request: the property company's handler through its department, the others by scope.
    with pytest.raises(PermissionDenied) as exc:
        s.do_record_notice(getattr(cw, who), complaint, expected_version=2, note=SENT)
    assert "outside your scope" not in str(exc.value)
    unchanged(complaint)


def test_the_assignee_at_the_property_company_may_not_record_it_either(cw, complaint):
    # The notice goes from customer service to the property company, not the other way round.
    case = s.do_dispatch_case(
        cw.specialist, complaint, expected_version=2, department=cw.property_dept, assignee=cw.property_handler
    )
    with pytest.raises(PermissionDenied):
        s.do_record_notice(cw.property_handler, case, expected_version=3, note=SENT)
    unchanged(complaint, version=3)


@pytest.mark.parametrize("who", ["outsider", "butler", "handler"])
def test_staff_who_cannot_see_the_request_may_not_record_it(cw, complaint, who):
    with pytest.raises(PermissionDenied) as exc:
        s.do_record_notice(getattr(cw, who), complaint, expected_version=2, note=SENT)
    assert "outside your scope" in str(exc.value)
    unchanged(complaint)


def test_a_suspended_or_closed_request_refuses_the_notice_naming_the_status(cw, complaint, clock):
    case = s.do_suspend_case(cw.specialist, complaint, expected_version=2, reason="等业主提供照片")
    with pytest.raises(CaseTransitionError) as exc:
        s.do_record_notice(cw.specialist, case, expected_version=3, note=SENT)
    assert "record the written notice for" in exc.value.messages[0] and "Suspended" in exc.value.messages[0]
    unchanged(complaint, version=3)
    case = s.do_resume_case(cw.specialist, case, expected_version=3)
    case = s.do_close_case(cw.specialist, case, expected_version=4)
    with pytest.raises(CaseTransitionError):
        s.do_record_notice(cw.specialist, case, expected_version=5, note=SENT)
    unchanged(complaint, version=5)


def test_a_request_without_a_notice_deadline_refuses_it(cw, clock):
    clock.set(MONDAY_9)
    # A complaint handled by engineering, and a repair handed to the property company: no notice is due.
    complaint = record(cw.specialist, cw.project, case_type=CaseType.COMPLAINT)
    complaint = s.do_dispatch_case(cw.specialist, complaint, expected_version=1, department=cw.dept)
    repair = record(cw.specialist, cw.project, case_type=CaseType.REPAIR)
    repair = s.do_dispatch_case(cw.specialist, repair, expected_version=1, department=cw.property_dept)
    for case in (complaint, repair):
        assert case.notice_due is None
        with pytest.raises(ValidationError) as exc:
            s.do_record_notice(cw.specialist, case, expected_version=2, note=SENT)
        assert "needs no written notice" in exc.value.messages[0]
        unchanged(case)


def test_the_notice_is_recorded_once(cw, complaint, clock):
    clock.set(at(2025, 11, 3, 11, 0))
    s.do_record_notice(cw.specialist, complaint, expected_version=2, note=SENT)
    with pytest.raises(ValidationError) as exc:
        s.do_record_notice(cw.specialist, complaint, expected_version=3, note="再发一次")
    assert "already recorded on 2025-11-03 11:00" in exc.value.messages[0]
    complaint.refresh_from_db()
    assert complaint.version == 3 and complaint.noticed_at == at(2025, 11, 3, 11, 0)
    assert complaint.events.filter(kind=EventKind.NOTICE_SENT).count() == 1


def test_the_notice_needs_a_note_and_the_current_version(cw, complaint):
    with pytest.raises(ValidationError) as exc:
        s.do_record_notice(cw.specialist, complaint, expected_version=2, note="   ")
    assert "note" in exc.value.message_dict
    unchanged(complaint)
    with pytest.raises(CaseConflict):
        s.do_record_notice(cw.specialist, complaint, expected_version=1, note=SENT)
    unchanged(complaint)


def test_a_pause_moves_the_notice_deadline_only_while_the_notice_is_pending(cw, complaint, clock):
    # Pending: suspended Mon 10:00–15:00 (4 working hours), so the notice is due at Tue 14:30, not 9:30.
    clock.set(at(2025, 11, 3, 10, 0))
    case = s.do_suspend_case(cw.specialist, complaint, expected_version=2, reason="等业主确认")
    clock.set(at(2025, 11, 3, 15, 0))
    case = s.do_resume_case(cw.specialist, case, expected_version=3)
    assert case.notice_due == at(2025, 11, 4, 14, 30)
    # Sent: a later pause leaves the met deadline where it was, while the resolution deadline moves.
    case = s.do_record_notice(cw.specialist, case, expected_version=4, note=SENT)
    resolution_due = case.resolution_due
    clock.set(at(2025, 11, 3, 16, 0))
    case = s.do_suspend_case(cw.specialist, case, expected_version=5, reason="等业主确认")
    clock.set(at(2025, 11, 4, 9, 30))
    case = s.do_resume_case(cw.specialist, case, expected_version=6)
    assert case.notice_due == at(2025, 11, 4, 14, 30)
    # Mon 16:00–17:00 and Tue 8:30–9:30: two working hours.
    assert case.total_paused == timedelta(hours=6)
    assert case.resolution_due == calendar_of(case).add_working_time(resolution_due, timedelta(hours=2))


# --- the API ----------------------------------------------------------------------------------


def notice_via_api(api, user, case, **fields):  # noqa: F811 - `api` is the imported fixture
    return api(user).post(f"/cases/{case.pk}/transitions", {"action": "notice", **fields})


def test_the_api_offers_and_records_the_notice(api, cw, complaint, clock):  # noqa: F811
    body = ok(api(cw.specialist).get(f"/cases/{complaint.pk}"))
    assert "notice" in body["allowed_actions"] and body["noticed_at"] is None
    assert "notice" not in ok(api(cw.property_handler).get(f"/cases/{complaint.pk}"))["allowed_actions"]
    clock.set(at(2025, 11, 3, 11, 0))
    body = ok(notice_via_api(api, cw.specialist, complaint, version=2, note=SENT))
    assert body["version"] == 3 and body["noticed_at"] == "2025-11-03T03:00:00Z"
    notice = next(c for c in body["clocks"] if c["name"] == "notice")
    assert (notice["state"], notice["done_at"]) == ("met", "2025-11-03T03:00:00Z")
    assert "notice" not in body["allowed_actions"]
    events = ok(api(cw.specialist).get(f"/cases/{complaint.pk}/events"))["items"]
    assert (events[-1]["kind"], events[-1]["note"], events[-1]["visibility"]) == ("notice_sent", SENT, "internal")


def test_the_api_refuses_a_bad_notice_naming_the_field(api, cw, complaint):  # noqa: F811
    assert set(errors_of(notice_via_api(api, cw.specialist, complaint, note=SENT))) == {"version"}
    assert set(errors_of(notice_via_api(api, cw.specialist, complaint, version=2, reason="x", note=SENT))) == {"reason"}
    assert set(errors_of(notice_via_api(api, cw.specialist, complaint, version=2))) == {"note"}
    problem_of(notice_via_api(api, cw.property_handler, complaint, version=2, note=SENT), 403)
    problem_of(notice_via_api(api, cw.outsider, complaint, version=2, note=SENT), 404)
    stale = problem_of(notice_via_api(api, cw.specialist, complaint, version=1, note=SENT), 409)
    assert [e["field"] for e in stale["errors"]] == ["version"]
    unchanged(complaint)
    ok(notice_via_api(api, cw.specialist, complaint, version=2, note=SENT))
    again = problem_of(notice_via_api(api, cw.specialist, complaint, version=3, note=SENT), 422)
    assert "already recorded" in again["detail"]


def test_the_api_refuses_the_notice_on_a_closed_request_with_409(api, cw, complaint):  # noqa: F811
    s.do_close_case(cw.specialist, complaint, expected_version=2)
    problem = problem_of(notice_via_api(api, cw.specialist, complaint, version=3, note=SENT), 409)
    assert problem["type"] == "urn:guanjia:problem:invalid-transition"
    assert Case.objects.get(pk=complaint.pk).noticed_at is None


# --- the console ------------------------------------------------------------------------------


def test_the_case_page_offers_the_notice_and_records_it(client, cw, complaint, clock):
    client.force_login(cw.specialist)
    url = reverse("cases:case_detail", args=[complaint.pk])
    response = client.get(url)
    assert "notice" in response.context["actions"]
    assert 'data-action="notice"' in response.content.decode()
    action = reverse("cases:case_action", args=[complaint.pk, "notice"])

    response = client.post(action, {"version": 2, "note": ""}, follow=True)
    assert [m.level for m in response.context["messages"]] == [messages.ERROR]
    unchanged(complaint)

    clock.set(at(2025, 11, 3, 11, 0))
    response = client.post(action, {"version": 2, "note": SENT}, follow=True)
    complaint.refresh_from_db()
    assert complaint.noticed_at == at(2025, 11, 3, 11, 0)
    assert "notice" not in response.context["actions"]
    notice = response.context["clocks"][-1]
    assert notice.state == "met"
    assert [e["event"].kind for e in response.context["events"]][-1] == EventKind.NOTICE_SENT


def test_the_case_page_does_not_offer_the_notice_to_a_property_handler(client, cw, complaint):
    client.force_login(cw.property_handler)
    response = client.get(reverse("cases:case_detail", args=[complaint.pk]))
    assert "notice" not in response.context["actions"]
    response = client.post(
        reverse("cases:case_action", args=[complaint.pk, "notice"]), {"version": 2, "note": SENT}, follow=True
    )
    assert [m.level for m in response.context["messages"]] == [messages.ERROR]
    unchanged(complaint)
