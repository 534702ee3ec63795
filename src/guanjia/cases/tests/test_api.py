"""REST API of service requests, through the HTTP client with bearer tokens.

Intake with an Idempotency-Key, the scoped list with its filters, the case page, every transition
of requests and tasks, follow-up calls, and each refusal: stale version, illegal transition,
role, scope and bad input.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from guanjia.cases import services as s
from guanjia.cases.choices import CaseStatus, CaseType, Channel, EventKind, Severity, TaskStatus, Visibility
from guanjia.cases.models import Case, CaseEvent, CaseTask, Category, FollowUp
from guanjia.core.models import ApiToken

from .conftest import record

PROBLEM = "application/problem+json"
S = CaseStatus


class Api:
    """A client acting as one staff member through a bearer token."""

    def __init__(self, client: Client, user):
        _, raw = ApiToken.issue(user, "test")
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}

    def get(self, url, params=None):
        return self.client.get(f"/api/v1{url}", params or {}, headers=self.headers)

    def post(self, url, data, **headers):
        return self.client.post(
            f"/api/v1{url}", data, content_type="application/json", headers={**self.headers, **headers}
        )


@pytest.fixture
def api(client):
    tokens = {}

    def as_user(user) -> Api:
        if user.pk not in tokens:
            tokens[user.pk] = Api(client, user)
        return tokens[user.pk]

    return as_user


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


def errors_of(response, status: int = 422) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem_of(response, status)["errors"]}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def intake(cw, **extra) -> dict:
    body = {
        "type": "repair",
        "channel": "hotline",
        "project": cw.project.pk,
        "units": [cw.unit_b.pk],
        "party": cw.owner_b.pk,
        "description": "卫生间漏水，楼下天花板渗水",
    }
    body.update(extra)
    return body


def move(api, user, case, action, **fields):
    """POST a case transition with the current version; returns the response."""
    case.refresh_from_db()
    return api(user).post(f"/cases/{case.pk}/transitions", {"action": action, "version": case.version, **fields})


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


# --- intake ------------------------------------------------------------------------------


def test_recording_makes_the_caller_owner_and_answers_201_with_the_case_page(api, cw):
    response = api(cw.specialist).post("/cases", intake(cw, severity="urgent"), **{"Idempotency-Key": "call-1"})
    body = ok(response, 201)
    case = Case.objects.get()
    assert body["id"] == case.pk and body["number"] == case.number
    assert (body["type"], body["status"], body["version"]) == ("repair", "recorded", 1)
    assert body["owner_id"] == cw.specialist.pk
    assert body["units"] == [{"id": cw.unit_b.pk, "label": "3栋2单元1502"}]
    assert body["customer_name"] == "李娜"
    assert {c["name"] for c in body["clocks"]} >= {"response", "resolution"}
    assert {c["state"] for c in body["clocks"]} == {"running"}
    assert {"dispatch", "close", "note", "split"} <= set(body["allowed_actions"])
    assert body["tasks"] == [] and body["follow_ups"] == []
    assert case.intake_key == "call-1"


def test_same_idempotency_key_answers_200_with_the_first_case_and_records_nothing_new(api, cw):
    client = api(cw.front_desk)
    # A time without an offset is Beijing time.
    body = intake(cw, received_at="2025-11-03T09:30:00", caller_phone="138 1234 5678")
    first = ok(client.post("/cases", body, **{"Idempotency-Key": "k-1"}), 201)
    assert first["received_at"] == "2025-11-03T01:30:00Z"
    again = client.post("/cases", body, **{"Idempotency-Key": "k-1"})
    assert ok(again, 200) == first
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_refused_and_records_nothing(api, cw):
    client = api(cw.front_desk)
    ok(client.post("/cases", intake(cw), **{"Idempotency-Key": "k-1"}), 201)
    response = client.post("/cases", intake(cw, description="电梯故障"), **{"Idempotency-Key": "k-1"})
    body = problem_of(response, 422)
    assert body["type"] == "urn:guanjia:problem:idempotency-key-reused"
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert Case.objects.count() == 1


def test_idempotency_keys_belong_to_one_user(api, cw):
    ok(api(cw.front_desk).post("/cases", intake(cw), **{"Idempotency-Key": "k-1"}), 201)
    ok(api(cw.specialist).post("/cases", intake(cw), **{"Idempotency-Key": "k-1"}), 201)
    assert Case.objects.count() == 2


def test_an_overlong_idempotency_key_is_refused(api, cw):
    errors = errors_of(api(cw.specialist).post("/cases", intake(cw), **{"Idempotency-Key": "x" * 65}))
    assert set(errors) == {"Idempotency-Key"}
    assert not Case.objects.exists()


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a real server; SQLite's in-memory test database is shared"
)


@needs_postgres
# Seeded categories and policies survive the flush after this test.
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_idempotency_key_record_one_case(world):
    _, raw = ApiToken.issue(world.specialist, "test")
    body = {
        "type": "complaint",
        "channel": "hotline",
        "project": world.project.pk,
        "party": world.owner_a.pk,
        "description": "楼上装修噪音太大",
    }
    count = 6
    barrier = threading.Barrier(count)
    answers: list = []

    def run():
        try:
            barrier.wait()
            response = Client().post(
                "/api/v1/cases",
                body,
                content_type="application/json",
                headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "same"},
            )
            answers.append((response.status_code, response.json().get("id")))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    case = Case.objects.get()
    assert len(answers) == count
    assert {status for status, _ in answers} <= {200, 201}
    assert {pk for _, pk in answers} == {case.pk}


def test_intake_ids_outside_the_scope_are_refused_per_field(api, cw):
    other = intake(cw, project=cw.other_project.pk)
    assert set(errors_of(api(cw.specialist).post("/cases", other))) == {"project"}
    foreign = intake(cw, units=[cw.other_unit.pk], party=cw.other_owner.pk, category=10**9)
    assert set(errors_of(api(cw.specialist).post("/cases", foreign))) == {"units", "party", "category"}
    # The butler of area B sees 3栋 only.
    assert set(errors_of(api(cw.butler).post("/cases", intake(cw, units=[cw.unit_a.pk], party=None)))) >= {"units"}
    # ... and the customers living there: one of 1栋 is refused although the project is the butler's.
    assert set(errors_of(api(cw.butler).post("/cases", intake(cw, units=[cw.unit_b.pk], party=cw.owner_a.pk)))) == {
        "party"
    }
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("type", {"type": "gossip"}),
        ("channel", {"channel": 3}),
        ("project", {"project": "绿色家园"}),
        ("units.0", {"units": ["a"]}),
        ("description", {"description": ""}),
        ("risk_major", {"risk_major": "maybe"}),
        ("caller_phone", {"party": None, "caller_phone": "12345"}),
        ("party", {"party": None}),
        ("colour", {"colour": "red"}),
    ],
)
def test_intake_bad_input_names_the_field_and_records_nothing(api, cw, field, change):
    errors = errors_of(api(cw.specialist).post("/cases", intake(cw, **change)))
    assert field in errors
    assert not Case.objects.exists()


def test_roles_that_take_no_requests_cannot_record(api, cw):
    problem_of(api(cw.inspector).post("/cases", intake(cw)), 403)
    assert not Case.objects.exists()


# --- the list ----------------------------------------------------------------------------


def test_list_is_scoped_newest_first_and_paginated(api, cw):
    a = record(cw.specialist, cw.project, units=[cw.unit_a], received_at=timezone.now() - timedelta(hours=3))
    b = record(cw.specialist, cw.project, units=[cw.unit_b], received_at=timezone.now() - timedelta(hours=2))
    c = record(cw.specialist, cw.project, units=[cw.unit_b], received_at=timezone.now() - timedelta(hours=1))
    theirs = record(cw.outsider, cw.other_project)
    page = api(cw.specialist).get("/cases", {"limit": 2})
    assert ids(page) == [c.pk, b.pk]
    assert page.json()["count"] == 3
    assert ids(api(cw.specialist).get("/cases", {"limit": 2, "offset": 2})) == [a.pk]
    assert "offset=2" in page.json()["next"]
    assert ids(api(cw.butler).get("/cases")) == [c.pk, b.pk]
    assert ids(api(cw.outsider).get("/cases")) == [theirs.pk]
    assert ids(api(cw.admin).get("/cases", {"project": cw.other_project.pk})) == [theirs.pk]


def test_list_masks_caller_phones_for_roles_that_may_not_see_them(api, cw):
    record(cw.specialist, cw.project, caller_phone="13812345678")
    assert api(cw.specialist).get("/cases").json()["items"][0]["caller_phone"] == "13812345678"
    assert api(cw.inspector).get("/cases").json()["items"][0]["caller_phone"] == "138****5678"


def test_list_filters(api, cw):
    now = timezone.now()
    leak = Category.objects.create(name="测试渗漏")
    bathroom = Category.objects.create(name="卫生间", parent=leak)
    plain = record(cw.specialist, cw.project, received_at=now - timedelta(days=3))
    repair = record(
        cw.front_desk,
        cw.project,
        case_type=CaseType.REPAIR,
        channel=Channel.WECHAT,
        category=bathroom,
        severity=Severity.MAJOR,
        received_at=now - timedelta(days=1),
    )
    dispatched = s.do_dispatch_case(cw.specialist, repair, expected_version=1, department=cw.dept, assignee=cw.handler)
    Case.objects.filter(pk=plain.pk).update(resolution_due=now - timedelta(minutes=5))
    Case.objects.filter(pk=repair.pk).update(resolution_due=now + timedelta(days=3))
    closed = record(cw.specialist, cw.project, received_at=now - timedelta(hours=1))
    s.do_close_case(cw.specialist, closed, expected_version=1)
    due_soon = record(cw.specialist, cw.project)
    Case.objects.filter(pk=due_soon.pk).update(resolution_due=now + timedelta(minutes=1))

    def found(**params):
        return set(ids(api(cw.manager).get("/cases", params)))

    assert found(type="repair") == found(channel="wechat") == found(severity="major") == {repair.pk}
    assert found(major="true") == {repair.pk}
    assert found(category=leak.pk) == found(category=bathroom.pk) == {repair.pk}
    assert found(status="dispatched") == found(department=cw.dept.pk) == found(assignee=cw.handler.pk)
    assert found(status="dispatched") == {dispatched.pk}
    assert found(owner=cw.front_desk.pk) == {repair.pk}
    assert found(created_before=(now - timedelta(days=2)).isoformat()) == {plain.pk}
    assert found(created_after=(now - timedelta(hours=2)).isoformat()) == {closed.pk, due_soon.pk}
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    assert found(created_after=str(tomorrow)) == set()
    assert found(created_before=str(tomorrow)) == {plain.pk, repair.pk, closed.pk, due_soon.pk}
    assert found(overdue="true") == {plain.pk}
    assert found(unassigned="true") == {plain.pk, due_soon.pk}
    assert found(awaiting_follow_up="true") == {closed.pk}
    if timezone.localtime(now + timedelta(minutes=1)).date() == timezone.localdate(now):
        assert due_soon.pk in found(due_today="true")
    assert plain.pk not in found(due_today="true")
    assert errors_of(api(cw.manager).get("/cases", {"status": "lost"})).keys() == {"status"}
    assert errors_of(api(cw.manager).get("/cases", {"overdue": "maybe"})).keys() == {"overdue"}


def test_unassigned_lists_what_no_department_or_person_has_yet_as_the_workbench_does(api, cw, client):
    waiting = record(cw.specialist, cw.project, description="咨询停车费标准")
    paused = s.do_suspend_case(
        cw.specialist, record(cw.specialist, cw.project), expected_version=1, reason="等业主提供照片"
    )
    to_department = s.do_dispatch_case(
        cw.specialist, record(cw.specialist, cw.project), expected_version=1, department=cw.dept
    )
    to_person = s.do_dispatch_case(
        cw.specialist, record(cw.specialist, cw.project), expected_version=1, assignee=cw.handler
    )
    assert {to_department.assignee_id, to_person.department_id} == {None}
    assert set(ids(api(cw.manager).get("/cases", {"unassigned": "true"}))) == {waiting.pk, paused.pk}
    client.force_login(cw.manager)
    page = client.get("/cases/?view=unassigned").content.decode()
    assert waiting.number in page and paused.number in page
    assert to_department.number not in page and to_person.number not in page


def test_the_overdue_view_lists_the_most_overdue_first(api, cw):
    now = timezone.now()
    # Received in one order, due in the other: the list follows the deadline, not the arrival.
    first = record(cw.specialist, cw.project, received_at=now - timedelta(days=3))
    second = record(cw.specialist, cw.project, received_at=now - timedelta(days=1))
    Case.objects.filter(pk=first.pk).update(resolution_due=now - timedelta(hours=1))
    Case.objects.filter(pk=second.pk).update(resolution_due=now - timedelta(hours=5))
    assert ids(api(cw.manager).get("/cases", {"overdue": "true"})) == [second.pk, first.pk]
    assert ids(api(cw.manager).get("/cases")) == [second.pk, first.pk]
    Case.objects.filter(pk=second.pk).update(resolution_due=now - timedelta(minutes=30))
    assert ids(api(cw.manager).get("/cases", {"overdue": "true"})) == [first.pk, second.pk]


def test_list_costs_a_bounded_number_of_queries(api, cw, django_assert_max_num_queries):
    for n in range(6):
        case = record(cw.specialist, cw.project, units=[cw.unit_a], party=cw.owner_a)
        if n % 2:
            s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept, assignee=cw.handler)
    client = api(cw.specialist)
    # token, token use, count, the page's ids, its rows: the same for 6 cases as for 60.
    with django_assert_max_num_queries(6):
        assert len(ids(client.get("/cases"))) == 6


def test_case_page_costs_a_bounded_number_of_queries(api, cw, django_assert_max_num_queries):
    case = record(cw.specialist, cw.project, units=[cw.unit_a, cw.unit_b], party=cw.owner_a)
    parts = [{"title": f"任务{n}", "department": cw.dept} for n in range(4)]
    s.do_split_case(cw.specialist, case, expected_version=1, parts=parts)
    client = api(cw.specialist)
    client.get(f"/cases/{case.pk}")
    # token, case, units, tasks, follow-ups, category-free allowed actions: not one query per task or unit.
    with django_assert_max_num_queries(8):
        body = ok(client.get(f"/cases/{case.pk}"))
    assert len(body["tasks"]) == 4 and len(body["units"]) == 2


def test_q_finds_two_character_words(api, cw):
    pytest.importorskip("guanjia.cases.search")
    leak = record(cw.specialist, cw.project, description="卫生间漏水，楼下天花板渗水")
    record(cw.specialist, cw.project, description="楼上装修噪音太大")
    assert ids(api(cw.specialist).get("/cases", {"q": "漏水"})) == [leak.pk]


# --- the case page -----------------------------------------------------------------------


def test_case_page_shows_deadlines_tasks_and_what_each_user_may_do(api, cw):
    case = record(cw.specialist, cw.project, units=[cw.unit_b], party=cw.owner_b)
    s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept, assignee=cw.handler)
    s.do_split_case(cw.specialist, case, expected_version=2, parts=[{"title": "查漏", "department": cw.dept}])
    owner_view = ok(api(cw.specialist).get(f"/cases/{case.pk}"))
    assert owner_view["status"] == "dispatched" and owner_view["version"] == 3
    assert owner_view["department_name"] == "工程部" and owner_view["assignee_id"] == cw.handler.pk
    assert [t["title"] for t in owner_view["tasks"]] == ["查漏"]
    assert owner_view["tasks"][0]["allowed_actions"] == ["cancel"]
    assert "close" in owner_view["allowed_actions"] and "start" in owner_view["allowed_actions"]
    response_clock = next(c for c in owner_view["clocks"] if c["name"] == "response")
    assert response_clock["state"] == "met" and response_clock["done_at"]

    handler_view = ok(api(cw.handler).get(f"/cases/{case.pk}"))
    assert "start" in handler_view["allowed_actions"]
    assert "close" not in handler_view["allowed_actions"]
    assert handler_view["tasks"][0]["allowed_actions"] == ["propose_plan"]
    assert ok(api(cw.inspector).get(f"/cases/{case.pk}"))["allowed_actions"] == ["note"]


def test_timeline_shows_internal_and_customer_entries_in_order(api, cw):
    case = record(cw.specialist, cw.project)
    s.do_add_note(cw.specialist, case, note="已电话安抚", visibility=Visibility.CUSTOMER)
    s.do_add_note(cw.specialist, case, note="疑似重复投诉")
    body = ok(api(cw.team_lead).get(f"/cases/{case.pk}/events"))
    assert body["count"] == 3
    assert [(e["seq"], e["kind"], e["visibility"]) for e in body["items"]] == [
        (1, "recorded", "internal"),
        (2, "note", "customer"),
        (3, "note", "internal"),
    ]
    assert body["items"][1]["actor_name"] == "specialist"


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/cases/{case}", None),
        ("get", "/cases/{case}/events", None),
        ("get", "/cases/{case}/tasks", None),
        ("post", "/cases/{case}/transitions", {"action": "close", "version": 3}),
        ("post", "/cases/{case}/tasks", {"version": 3, "tasks": [{"title": "x", "department": 1}]}),
        ("get", "/tasks/{task}", None),
        ("post", "/tasks/{task}/transitions", {"action": "cancel", "version": 1, "reason": "x"}),
        ("post", "/follow-ups/{follow_up}/outcome", {"outcome": "satisfied", "version": 4}),
    ],
)
def test_requests_tasks_and_follow_ups_outside_the_scope_are_404(api, cw, method, url, data):
    case = record(cw.specialist, cw.project, units=[cw.unit_a], party=cw.owner_a)
    (task,) = s.do_split_case(cw.specialist, case, expected_version=1, parts=[{"title": "查漏", "department": cw.dept}])
    s.do_close_case(cw.specialist, case, expected_version=2, reason="业主撤回")
    follow_up = case.follow_ups.get()
    path = url.format(case=case.pk, task=task.pk, follow_up=follow_up.pk)
    for outsider in (cw.outsider, cw.butler):  # another company; another area of the same project
        client = api(outsider)
        response = client.get(path) if method == "get" else client.post(path, data)
        problem_of(response, 404)
    case.refresh_from_db()
    assert case.version == 3 and case.status == S.CLOSED


# --- case transitions --------------------------------------------------------------------


def test_a_request_goes_its_whole_way_through_the_api(api, cw):
    case = record(cw.specialist, cw.project, units=[cw.unit_b], party=cw.owner_b)
    body = ok(move(api, cw.specialist, case, "dispatch", department=cw.dept.pk, assignee=cw.handler.pk, note="尽快"))
    assert (body["status"], body["version"], body["assignee_id"]) == ("dispatched", 2, cw.handler.pk)
    assert ok(move(api, cw.handler, case, "start"))["status"] == "in_progress"
    assert ok(move(api, cw.handler, case, "submit_for_acceptance"))["status"] == "awaiting_acceptance"
    body = ok(move(api, cw.specialist, case, "close", note="已修复", visibility="customer"))
    assert body["status"] == "closed" and len(body["follow_ups"]) == 1
    follow_up = body["follow_ups"][0]["id"]
    answered = ok(api(cw.specialist).post(f"/follow-ups/{follow_up}/outcome", {"outcome": "satisfied", "version": 5}))
    assert (answered["case_status"], answered["outcome"]) == ("followed_up", "satisfied")
    body = ok(move(api, cw.team_lead, case, "archive"))
    assert (body["status"], body["version"]) == ("archived", 7)
    assert list(case.events.values_list("kind", flat=True)) == [
        EventKind.RECORDED,
        EventKind.DISPATCHED,
        EventKind.STARTED,
        EventKind.SUBMITTED,
        EventKind.CLOSED,
        EventKind.FOLLOWED_UP,
        EventKind.ARCHIVED,
    ]


def test_suspend_resume_reopen_note_owner_change_and_merge_through_the_api(api, cw):
    case = record(cw.specialist, cw.project, units=[cw.unit_b])
    assert ok(move(api, cw.specialist, case, "suspend", reason="等业主回家"))["status"] == "suspended"
    assert ok(move(api, cw.specialist, case, "resume"))["status"] == "recorded"
    assert ok(move(api, cw.specialist, case, "close"))["status"] == "closed"
    body = ok(move(api, cw.specialist, case, "reopen", reason="业主不满意"))
    assert (body["status"], body["reopened_count"]) == ("reopened", 1)
    version = body["version"]
    body = ok(api(cw.inspector).post(f"/cases/{case.pk}/transitions", {"action": "note", "note": "抽检：已回电"}))
    assert body["version"] == version  # notes do not bump the version
    assert case.events.last().note == "抽检：已回电"
    body = ok(move(api, cw.team_lead, case, "change_owner", new_owner=cw.specialist2.pk, reason="休假"))
    assert body["owner_id"] == cw.specialist2.pk

    duplicate = record(cw.front_desk, cw.project, units=[cw.unit_b])
    body = ok(move(api, cw.specialist, duplicate, "merge", into=case.pk, note="同一漏水"))
    assert body["status"] == "closed" and body["merged_into_id"] == case.pk


def test_stale_version_is_409_naming_version_and_changes_nothing(api, cw):
    case = record(cw.specialist, cw.project)
    s.do_suspend_case(cw.specialist, case, expected_version=1, reason="等业主")
    s.do_resume_case(cw.specialist, case, expected_version=2)
    response = api(cw.specialist).post(f"/cases/{case.pk}/transitions", {"action": "close", "version": 1})
    body = problem_of(response, 409)
    assert body["type"] == "urn:guanjia:problem:stale-version"
    assert [e["field"] for e in body["errors"]] == ["version"]
    assert "version 3" in body["detail"]
    case.refresh_from_db()
    assert (case.status, case.version, case.events.count()) == (S.RECORDED, 3, 3)


def test_illegal_transition_is_409_with_the_reason_and_changes_nothing(api, cw):
    case = record(cw.specialist, cw.project)
    body = problem_of(move(api, cw.specialist, case, "archive"), 409)
    assert body["type"] == "urn:guanjia:problem:invalid-transition"
    assert body["detail"] == "Cannot archive this request: it is “Recorded”."
    case.refresh_from_db()
    assert (case.status, case.version) == (S.RECORDED, 1)


def test_role_without_the_permission_gets_403_and_nothing_changes(api, cw):
    case = record(cw.specialist, cw.project)
    problem_of(move(api, cw.inspector, case, "dispatch", department=cw.dept.pk), 403)
    problem_of(move(api, cw.specialist2, case, "close"), 403)  # only the owner or a supervisor closes
    case.refresh_from_db()
    assert (case.status, case.version) == (S.RECORDED, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "dispatch", "department": 1}, "version"),
        ({"action": "fly", "version": 1}, "action"),
        ({"action": "start", "version": "one"}, "version"),
        ({"action": "start", "version": 1, "department": 1}, "department"),
        ({"action": "dispatch", "version": 1, "department": 10**9}, "department"),
        ({"action": "dispatch", "version": 1, "assignee": 10**9}, "assignee"),
        ({"action": "dispatch", "version": 1}, "department"),
        ({"action": "suspend", "version": 1}, "reason"),
        ({"action": "note", "note": " "}, "note"),
        ({"action": "note", "note": "x", "visibility": "public"}, "visibility"),
        ({"action": "change_owner", "version": 1, "reason": "休假"}, "new_owner"),
        ({"action": "merge", "version": 1, "into": 10**9}, "into"),
    ],
)
def test_transition_bad_input_names_the_field_and_changes_nothing(api, cw, body, field):
    case = record(cw.specialist, cw.project)
    errors = errors_of(api(cw.team_lead).post(f"/cases/{case.pk}/transitions", body))
    assert field in errors
    case.refresh_from_db()
    assert (case.status, case.version, case.events.count()) == (S.RECORDED, 1, 1)


def test_dispatch_to_a_department_of_another_company_is_refused_on_the_field(api, cw):
    case = record(cw.specialist, cw.project)
    errors = errors_of(move(api, cw.specialist, case, "dispatch", department=cw.other_dept.pk))
    assert set(errors) == {"department"}


# --- tasks -------------------------------------------------------------------------------


def task_move(api, user, task_id, action, **fields):
    version = CaseTask.objects.get(pk=task_id).version
    return api(user).post(f"/tasks/{task_id}/transitions", {"action": action, "version": version, **fields})


def test_task_flow_through_the_api(api, cw):
    case = record(cw.specialist, cw.project, units=[cw.unit_b])
    response = api(cw.specialist).post(
        f"/cases/{case.pk}/tasks",
        {
            "version": 1,
            "tasks": [
                {"title": "查漏", "department": cw.dept.pk},
                {"title": "赔偿评估", "assignee": cw.cost_handler.pk},
            ],
        },
    )
    work, claim = ok(response, 201)
    assert (work["status"], work["department_id"], work["due"] is not None) == ("open", cw.dept.pk, True)
    assert ok(api(cw.specialist).get(f"/cases/{case.pk}"))["status"] == "dispatched"
    assert [t["id"] for t in ok(api(cw.handler).get(f"/cases/{case.pk}/tasks"))] == [work["id"]]

    assert ok(task_move(api, cw.handler, work["id"], "propose_plan", plan="先关总阀"))["status"] == "plan_proposed"
    rejected = ok(task_move(api, cw.specialist, work["id"], "reject", reason="先查楼上"))
    assert (rejected["status"], rejected["rejection_note"]) == ("rejected", "先查楼上")
    ok(task_move(api, cw.handler, work["id"], "propose_plan", plan="查楼上防水"))
    assert ok(task_move(api, cw.specialist, work["id"], "confirm_plan", note="同意"))["status"] == "plan_confirmed"
    assert ok(task_move(api, cw.handler, work["id"], "complete", report="已修复防水"))["status"] == "done"
    assert ok(task_move(api, cw.specialist, claim["id"], "cancel", reason="业主不要赔偿"))["status"] == "cancelled"
    assert ok(api(cw.specialist).get(f"/cases/{case.pk}"))["status"] == "awaiting_acceptance"
    accepted = ok(task_move(api, cw.specialist, work["id"], "accept"))
    assert accepted["status"] == "accepted" and accepted["allowed_actions"] == []


def test_repair_tasks_take_an_engineering_and_a_cost_acceptance(api, cw):
    case = record(cw.specialist, cw.project, case_type=CaseType.REPAIR)
    (task,) = s.do_split_case(cw.specialist, case, expected_version=1, parts=[{"title": "换管", "department": cw.dept}])
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="换管")
    s.do_confirm_plan(cw.specialist, task, expected_version=2)
    s.do_complete_task(cw.handler, task, expected_version=3, report="已换")
    assert set(errors_of(task_move(api, cw.handler, task.pk, "accept"))) == {"acceptance"}
    assert ok(task_move(api, cw.handler, task.pk, "accept", acceptance="engineering"))["status"] == "done"
    problem_of(task_move(api, cw.handler, task.pk, "accept", acceptance="cost"), 403)
    body = ok(task_move(api, cw.cost_handler, task.pk, "accept", acceptance="cost"))
    assert body["status"] == "accepted" and body["cost_accepted_at"]


def test_task_refusals_stale_version_wrong_state_role_and_bad_ids(api, cw):
    case = record(cw.specialist, cw.project)
    (task,) = s.do_split_case(cw.specialist, case, expected_version=1, parts=[{"title": "查漏", "department": cw.dept}])
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="关阀")

    stale = api(cw.specialist).post(f"/tasks/{task.pk}/transitions", {"action": "confirm_plan", "version": 1})
    assert [e["field"] for e in problem_of(stale, 409)["errors"]] == ["version"]
    body = problem_of(task_move(api, cw.handler, task.pk, "complete", report="好了"), 409)
    assert body["detail"] == "Cannot complete this task: it is “Plan proposed”."
    problem_of(task_move(api, cw.handler, task.pk, "confirm_plan"), 403)  # not their own plan
    assert set(errors_of(task_move(api, cw.specialist, task.pk, "reject"))) == {"reason"}
    assert set(errors_of(task_move(api, cw.specialist, task.pk, "cancel", plan="x"))) == {"plan"}
    task.refresh_from_db()
    assert (task.status, task.version) == (TaskStatus.PLAN_PROPOSED, 2)

    case.refresh_from_db()
    split = api(cw.specialist).post(
        f"/cases/{case.pk}/tasks", {"version": case.version, "tasks": [{"title": "x", "department": 10**9}]}
    )
    assert set(errors_of(split)) == {"tasks.0.department"}
    split = api(cw.specialist).post(
        f"/cases/{case.pk}/tasks", {"version": case.version, "tasks": [{"title": "x", "department": cw.other_dept.pk}]}
    )
    assert set(errors_of(split)) == {"tasks"}
    assert CaseTask.objects.count() == 1


# --- follow-ups --------------------------------------------------------------------------


def test_follow_up_list_filters_and_a_dissatisfied_call_reopens_the_request(api, cw):
    first = record(cw.specialist, cw.project, units=[cw.unit_b])
    second = record(cw.specialist, cw.project, units=[cw.unit_b])
    s.do_close_case(cw.specialist, first, expected_version=1)
    s.do_close_case(cw.specialist, second, expected_version=1)
    late, due_later = FollowUp.objects.get(case=first), FollowUp.objects.get(case=second)
    FollowUp.objects.filter(pk=late.pk).update(due=timezone.now() - timedelta(days=1))
    client = api(cw.specialist)

    assert ids(client.get("/follow-ups")) == [late.pk, due_later.pk]
    assert ids(client.get("/follow-ups", {"overdue": "true"})) == [late.pk]
    assert ids(client.get("/follow-ups", {"due": str(timezone.localdate(due_later.due))})) == [due_later.pk]
    assert ids(client.get("/follow-ups", {"project": cw.other_project.pk})) == []
    assert ids(api(cw.outsider).get("/follow-ups")) == []

    body = ok(
        client.post(f"/follow-ups/{late.pk}/outcome", {"outcome": "dissatisfied", "version": 2, "note": "还在漏"})
    )
    assert (body["case_status"], body["outcome"], body["done_at"] is not None) == ("reopened", "dissatisfied", True)
    assert ids(client.get("/follow-ups", {"pending": "true"})) == [due_later.pk]


def test_follow_up_refusals(api, cw):
    case = record(cw.specialist, cw.project)
    s.do_close_case(cw.specialist, case, expected_version=1)
    follow_up = case.follow_ups.get()
    url = f"/follow-ups/{follow_up.pk}/outcome"
    assert [
        e["field"]
        for e in problem_of(api(cw.specialist).post(url, {"outcome": "satisfied", "version": 1}), 409)["errors"]
    ] == ["version"]
    assert set(errors_of(api(cw.specialist).post(url, {"outcome": "happy", "version": 2}))) == {"outcome"}
    problem_of(api(cw.handler).post(url, {"outcome": "satisfied", "version": 2}), 404)  # not their department's
    problem_of(api(cw.inspector).post(url, {"outcome": "satisfied", "version": 2}), 403)
    follow_up.refresh_from_db()
    assert follow_up.done_at is None and follow_up.attempts == 0


def test_a_dissatisfied_call_can_escalate_the_request(api, cw):
    case = record(cw.specialist, cw.project)
    s.do_close_case(cw.specialist, case, expected_version=1)
    follow_up = case.follow_ups.get()
    body = ok(
        api(cw.specialist).post(
            f"/follow-ups/{follow_up.pk}/outcome",
            {"outcome": "dissatisfied", "version": 2, "note": "业主要求经理出面", "then": "escalate"},
        )
    )
    assert (body["case_status"], body["outcome"]) == ("reopened", "dissatisfied")
    page = ok(api(cw.specialist).get(f"/cases/{case.pk}"))
    assert page["risk_major"] is True and page["reopened_count"] == 1
    assert case.pk in ids(api(cw.specialist).get("/cases", {"major": "true"}))
    events = ok(api(cw.specialist).get(f"/cases/{case.pk}/events"))["items"]
    assert [(e["kind"], e["note"]) for e in events[-2:]] == [
        ("followed_up", "业主要求经理出面"),
        ("escalated", "业主要求经理出面"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "dissatisfied", "note": "不满意", "then": "sideways"},
        {"outcome": "satisfied", "then": "escalate"},
        {"outcome": "unreachable", "then": "reopen"},
    ],
)
def test_follow_up_then_is_refused_naming_the_field(api, cw, body):
    case = record(cw.specialist, cw.project)
    s.do_close_case(cw.specialist, case, expected_version=1)
    follow_up = case.follow_ups.get()
    response = api(cw.specialist).post(f"/follow-ups/{follow_up.pk}/outcome", {"version": 2, **body})
    assert set(errors_of(response)) == {"then"}
    follow_up.refresh_from_db()
    case.refresh_from_db()
    assert (follow_up.attempts, follow_up.done_at, case.status, case.risk_major) == (0, None, S.CLOSED, False)
