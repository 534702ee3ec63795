"""Console pages of service requests: workbench, case page, hotline entry and follow-up calls."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from guanjia.cases import services as s
from guanjia.cases.choices import CaseStatus, CaseType, FollowUpOutcome
from guanjia.cases.models import Case, CaseEvent
from guanjia.cases.views import conflict_message

from .conftest import category, record

S = CaseStatus


def login(client, user):
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def leak(cw, actor=None, **extra):
    data = {
        "case_type": CaseType.REPAIR,
        "description": "卫生间漏水，楼下天花板有水渍",
        "party": cw.owner_b,
        "units": [cw.unit_b],
        "category": category("工程质量", "渗漏", "卫生间渗漏"),
    }
    data.update(extra)
    return record(actor or cw.specialist, cw.project, **data)


def closed_leak(cw):
    case = leak(cw)
    case = s.do_dispatch_case(cw.specialist, case, expected_version=case.version, department=cw.dept)
    case = s.do_close_case(cw.specialist, case, expected_version=case.version, note="已修好")
    return case


# --- pages render inside scope, 404 outside ---------------------------------------------------------


def test_every_page_renders_for_staff_in_scope(client, cw):
    case = closed_leak(cw)
    follow_up = case.follow_ups.get()
    login(client, cw.specialist)
    for url in (
        reverse("cases:workbench"),
        reverse("cases:workbench") + "?view=all",
        reverse("cases:case_new"),
        reverse("cases:case_detail", args=[case.pk]),
        reverse("cases:follow_up_list"),
        reverse("cases:follow_up", args=[follow_up.pk]),
        reverse("cases:lookup") + "?q=1502",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["outsider", "butler"])
def test_requests_outside_scope_are_404_and_cannot_be_acted_on(client, cw, who):
    # The butler serves area B (3栋); this case is about 1栋 in area A.
    case = leak(cw, party=cw.owner_a, units=[cw.unit_a])
    login(client, getattr(cw, who))
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    response = client.post(
        reverse("cases:case_action", args=[case.pk, "dispatch"]), {"version": 1, "department": cw.dept.pk}
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert (case.status, case.version) == (S.RECORDED, 1)
    assert case.number not in client.get(reverse("cases:workbench") + "?view=all").content.decode()


def test_follow_up_and_task_of_another_project_are_404(client, cw):
    case = closed_leak(cw)
    task = s.do_split_case(
        cw.specialist, leak(cw), expected_version=1, parts=[{"title": "检修", "department": cw.dept}]
    )[0]
    login(client, cw.outsider)
    assert client.get(reverse("cases:follow_up", args=[case.follow_ups.get().pk])).status_code == 404
    assert client.post(reverse("cases:task_action", args=[task.pk, "propose_plan"]), {"version": 1}).status_code == 404


# --- the case page ------------------------------------------------------------------------------


def test_handler_sees_only_their_departments_tasks(client, cw):
    case = leak(cw)
    s.do_split_case(
        cw.specialist,
        case,
        expected_version=1,
        parts=[
            {"title": "工程检修防水层", "department": cw.dept},
            {"title": "核算维修费用", "department": cw.cost_dept},
        ],
    )
    page = login(client, cw.handler).get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "工程检修防水层" in page
    assert "核算维修费用" not in page
    page = login(client, cw.specialist).get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "工程检修防水层" in page and "核算维修费用" in page


def test_actions_offered_are_the_allowed_ones(client, cw):
    case = leak(cw)
    url = reverse("cases:case_detail", args=[case.pk])
    # The owner of a recorded case: dispatch, split, suspend, close, merge; nothing that needs another status.
    assert login(client, cw.specialist).get(url).context["actions"] == [
        "dispatch",
        "split",
        "suspend",
        "close",
        "merge",
    ]

    s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept)
    handler_actions = login(client, cw.handler).get(url).context["actions"]
    assert "start" in handler_actions
    assert not {"dispatch", "close", "merge", "reopen"} & set(handler_actions)

    # The inspector sees the case but may only write notes.
    response = login(client, cw.inspector).get(url)
    assert response.context["actions"] == []
    assert 'data-action="dispatch"' not in response.content.decode()


def test_task_actions_follow_the_task_status_and_the_role(client, cw):
    case = leak(cw)
    task = s.do_split_case(cw.specialist, case, expected_version=1, parts=[{"title": "检修", "department": cw.dept}])[0]
    url = reverse("cases:case_detail", args=[case.pk])

    def task_actions(user):
        return next(t for t in login(client, user).get(url).context["tasks"] if t.pk == task.pk).actions

    assert task_actions(cw.handler) == ["propose_plan"]
    assert "propose_plan" not in task_actions(cw.specialist)
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="更换防水层")
    assert set(task_actions(cw.specialist)) >= {"confirm_plan", "reject_task"}
    assert "confirm_plan" not in task_actions(cw.handler)


def test_handler_completes_a_task_with_a_report_through_the_page(client, cw):
    case = leak(cw)
    task = s.do_split_case(cw.specialist, case, expected_version=1, parts=[{"title": "检修", "department": cw.dept}])[0]
    task = s.do_propose_plan(cw.handler, task, expected_version=1, plan="更换防水层")
    task = s.do_confirm_plan(cw.specialist, task, expected_version=task.version)
    login(client, cw.handler)
    response = client.post(
        reverse("cases:task_action", args=[task.pk, "complete_task"]),
        {"version": task.version, "report": ""},
        follow=True,
    )
    assert any("What was done" in m or "完成" in m for m in texts(response))
    task.refresh_from_db()
    assert task.status == "plan_confirmed"
    response = client.post(
        reverse("cases:task_action", args=[task.pk, "complete_task"]),
        {"version": task.version, "report": "已更换防水层，闭水试验48小时无渗漏"},
        follow=True,
    )
    task.refresh_from_db()
    assert task.status == "done" and "闭水试验" in task.report
    assert "闭水试验" in response.content.decode()


def test_stale_version_shows_the_conflict_message_and_changes_nothing(client, cw):
    case = leak(cw)
    s.do_dispatch_case(cw.specialist2, case, expected_version=1, department=cw.dept)
    events_before = CaseEvent.objects.filter(case=case).count()
    response = login(client, cw.specialist).post(
        reverse("cases:case_action", args=[case.pk, "close"]), {"version": 1, "note": "已处理"}, follow=True
    )
    assert conflict_message() in texts(response)
    case.refresh_from_db()
    assert (case.status, case.version) == (S.DISPATCHED, 2)
    assert CaseEvent.objects.filter(case=case).count() == events_before


def test_illegal_transition_shows_its_message(client, cw):
    case = leak(cw)
    response = login(client, cw.specialist).post(
        reverse("cases:case_action", args=[case.pk, "reopen"]), {"version": 1, "reason": "业主不满意"}, follow=True
    )
    assert any("“" in m for m in texts(response))
    case.refresh_from_db()
    assert case.status == S.RECORDED


def test_suspend_without_reason_names_the_field_and_changes_nothing(client, cw):
    case = leak(cw)
    response = login(client, cw.specialist).post(
        reverse("cases:case_action", args=[case.pk, "suspend"]), {"version": 1, "reason": " "}, follow=True
    )
    assert any(m.startswith(("Reason", "原因")) for m in texts(response))
    case.refresh_from_db()
    assert (case.status, case.version) == (S.RECORDED, 1)


def test_dispatch_through_the_page_moves_the_case(client, cw):
    case = leak(cw)
    response = login(client, cw.specialist).post(
        reverse("cases:case_action", args=[case.pk, "dispatch"]),
        {"version": 1, "department": cw.dept.pk, "assignee": cw.handler.pk, "note": "请尽快上门"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("cases:case_detail", args=[case.pk])
    case.refresh_from_db()
    assert (case.status, case.department, case.assignee) == (S.DISPATCHED, cw.dept, cw.handler)


def test_close_with_open_tasks_asks_for_a_reason(client, cw):
    case = leak(cw)
    s.do_split_case(cw.specialist, case, expected_version=1, parts=[{"title": "检修", "department": cw.dept}])
    case.refresh_from_db()
    login(client, cw.specialist)
    page = client.get(reverse("cases:case_detail", args=[case.pk]))
    assert page.context["unfinished"] is True
    response = client.post(
        reverse("cases:case_action", args=[case.pk, "close"]), {"version": case.version, "reason": ""}, follow=True
    )
    assert any("Reason" in m or "原因" in m for m in texts(response))
    case.refresh_from_db()
    assert case.status == S.DISPATCHED


# --- workbench ----------------------------------------------------------------------------------


def numbers(response) -> set[str]:
    return {c.number for c in response.context["page"]}


def test_my_queue_holds_cases_i_own_or_am_assigned(client, cw):
    mine = leak(cw)
    theirs = leak(cw, actor=cw.specialist2)
    assigned = s.do_dispatch_case(
        cw.specialist2, leak(cw, actor=cw.specialist2), expected_version=1, assignee=cw.specialist
    )
    response = login(client, cw.specialist).get(reverse("cases:workbench"))
    assert numbers(response) == {mine.number, assigned.number}
    assert theirs.number not in numbers(response)


def test_team_queue_of_a_handler_is_their_departments_work(client, cw):
    to_engineering = s.do_dispatch_case(cw.specialist, leak(cw), expected_version=1, department=cw.dept)
    to_property = s.do_dispatch_case(cw.specialist, leak(cw), expected_version=1, department=cw.property_dept)
    response = login(client, cw.handler).get(reverse("cases:workbench") + "?view=team")
    assert numbers(response) == {to_engineering.number}
    assert to_property.number not in numbers(response)


def test_saved_views_overdue_unassigned_follow_up_and_major(client, cw):
    overdue = leak(cw)
    Case.objects.filter(pk=overdue.pk).update(resolution_due=timezone.now() - timedelta(hours=1))
    unassigned = record(cw.specialist, cw.project, description="咨询停车费标准", case_type=CaseType.INQUIRY)
    dispatched = s.do_dispatch_case(cw.specialist, leak(cw), expected_version=1, department=cw.dept)
    closed = closed_leak(cw)
    major = record(cw.specialist, cw.project, description="多户业主联名投诉", risk_group=True)
    login(client, cw.specialist)
    base = reverse("cases:workbench")
    assert numbers(client.get(base + "?view=overdue")) == {overdue.number}
    assert dispatched.number not in numbers(client.get(base + "?view=unassigned"))
    assert unassigned.number in numbers(client.get(base + "?view=unassigned"))
    assert numbers(client.get(base + "?view=follow_up")) == {closed.number}
    assert numbers(client.get(base + "?view=major")) == {major.number}


def test_filters_narrow_the_list(client, cw):
    repair = leak(cw)
    complaint = record(cw.specialist, cw.project, description="保安态度差", category=category("物业服务", "安保"))
    login(client, cw.specialist)
    base = reverse("cases:workbench") + "?view=all"
    assert numbers(client.get(base + "&case_type=repair")) == {repair.number}
    # A category matches its descendants.
    assert numbers(client.get(base + f"&category={category('工程质量').pk}")) == {repair.number}
    assert numbers(client.get(base + "&status=recorded")) == {repair.number, complaint.number}
    assert numbers(client.get(base + "&channel=walk_in")) == set()
    today = timezone.localdate().isoformat()
    assert numbers(client.get(base + f"&received_from={today}&received_to={today}")) == {
        repair.number,
        complaint.number,
    }
    assert numbers(client.get(base + "&received_to=2000-01-01")) == set()
    assert numbers(client.get(base + f"&q={repair.number}")) == {repair.number}


def test_search_finds_two_character_words(client, cw):
    repair = leak(cw)
    record(cw.specialist, cw.project, description="保安态度差")
    response = login(client, cw.specialist).get(reverse("cases:workbench") + "?view=all&q=漏水")
    assert numbers(response) == {repair.number}


def test_htmx_refresh_answers_with_the_table_only(client, cw):
    leak(cw)
    response = login(client, cw.specialist).get(reverse("cases:workbench") + "?view=all", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<table" in body and "<html" not in body


def test_phones_are_masked_for_roles_that_may_not_see_them(client, cw):
    s.do_dispatch_case(cw.specialist, leak(cw), expected_version=1, department=cw.dept)
    assert "13987651502" in login(client, cw.specialist).get(reverse("cases:workbench") + "?view=all").content.decode()
    body = login(client, cw.handler).get(reverse("cases:workbench") + "?view=all").content.decode()
    assert "13987651502" not in body and "139****1502" in body


def test_workbench_query_count_does_not_grow_with_the_page(client, cw, django_assert_max_num_queries):
    for _ in range(3):
        leak(cw)
    login(client, cw.specialist)
    url = reverse("cases:workbench") + "?view=all"
    client.get(url)
    for _ in range(20):
        leak(cw)
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert len(numbers(response)) == 23


def test_bulk_assignment_dispatches_each_and_reports_failures(client, cw):
    first, second, stale = leak(cw), leak(cw), leak(cw)
    s.do_dispatch_case(cw.specialist2, stale, expected_version=1, department=cw.property_dept)
    response = login(client, cw.specialist).post(
        reverse("cases:bulk_dispatch"),
        {
            "cases": [first.pk, second.pk, stale.pk],
            f"version_{first.pk}": 1,
            f"version_{second.pk}": 1,
            f"version_{stale.pk}": 1,
            "department": cw.dept.pk,
            "assignee": cw.handler.pk,
            "query": "view=all",
        },
        follow=True,
    )
    for case in (first, second):
        case.refresh_from_db()
        assert (case.status, case.department, case.assignee) == (S.DISPATCHED, cw.dept, cw.handler)
    stale.refresh_from_db()
    assert stale.department == cw.property_dept
    lines = texts(response)
    assert any(first.number in m and second.number in m for m in lines)
    assert any(stale.number in m and m != lines[0] for m in lines)
    assert response.redirect_chain[-1][0].endswith("?view=all")


def test_bulk_assignment_needs_a_target_and_ignores_foreign_ids(client, cw):
    case = leak(cw)
    foreign = record(cw.outsider, cw.other_project, description="外墙渗水")
    login(client, cw.specialist)
    client.post(reverse("cases:bulk_dispatch"), {"cases": [case.pk]})
    case.refresh_from_db()
    assert case.status == S.RECORDED
    client.post(reverse("cases:bulk_dispatch"), {"cases": [foreign.pk], "department": cw.dept.pk})
    foreign.refresh_from_db()
    assert foreign.status == S.RECORDED


# --- hotline entry --------------------------------------------------------------------------------


def test_lookup_by_phone_tail_finds_the_party_their_units_and_open_cases(client, cw):
    open_case = leak(cw)
    body = login(client, cw.front_desk).get(reverse("cases:lookup") + "?q=1502").content.decode()
    assert "李娜" in body and "3栋2单元1502" in body and open_case.number in body
    assert "13987651502" in body  # the hotline may see whole numbers


def test_lookup_by_room_and_masking_for_other_roles(client, cw):
    body = login(client, cw.specialist).get(reverse("cases:lookup") + "?q=3栋1502").content.decode()
    assert "李娜" in body
    body = login(client, cw.inspector).get(reverse("cases:lookup") + "?q=3-2-1502").content.decode()
    assert "李娜" in body and "13987651502" not in body


def test_lookup_never_shows_parties_outside_scope(client, cw):
    body = login(client, cw.outsider).get(reverse("cases:lookup") + "?q=1502").content.decode()
    assert "李娜" not in body


def test_hotline_form_records_a_case_for_the_picked_party(client, cw):
    login(client, cw.front_desk)
    page = client.get(reverse("cases:case_new"))
    key = page.context["form"]["idempotency_key"].value()
    data = {
        "project": cw.project.pk,
        "party": cw.owner_b.pk,
        "units": [cw.unit_b.pk],
        "case_type": "repair",
        "channel": "hotline",
        "category": category("工程质量", "渗漏", "卫生间渗漏").pk,
        "severity": "normal",
        "description": "卫生间漏水",
        "idempotency_key": key,
    }
    response = client.post(reverse("cases:case_new"), data)
    case = Case.objects.get()
    assert response.url == reverse("cases:case_detail", args=[case.pk])
    assert (case.party, list(case.units.all()), case.owner) == (cw.owner_b, [cw.unit_b], cw.front_desk)
    # The same form sent twice records one request.
    client.post(reverse("cases:case_new"), data)
    assert Case.objects.count() == 1


def test_hotline_form_bad_input_names_the_field_and_records_nothing(client, cw):
    login(client, cw.front_desk)
    response = client.post(
        reverse("cases:case_new"),
        {
            "project": cw.project.pk,
            "case_type": "repair",
            "channel": "hotline",
            "severity": "normal",
            "description": "",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["description"]
    response = client.post(
        reverse("cases:case_new"),
        {
            "project": cw.project.pk,
            "party": cw.other_owner.pk,
            "case_type": "repair",
            "channel": "hotline",
            "severity": "normal",
            "description": "漏水",
        },
    )
    assert response.context["form"].errors["party"]
    assert not Case.objects.exists()


def test_hotline_form_is_refused_to_roles_that_do_not_take_requests(client, cw):
    assert login(client, cw.handler).get(reverse("cases:case_new")).status_code == 403


# --- follow-up calls --------------------------------------------------------------------------------


def test_follow_up_queue_lists_pending_calls_overdue_first(client, cw):
    later, earlier = closed_leak(cw), closed_leak(cw)
    earlier.follow_ups.update(due=timezone.now() - timedelta(hours=3))
    response = login(client, cw.specialist).get(reverse("cases:follow_up_list"))
    assert [f.case.number for f in response.context["page"]] == [earlier.number, later.number]
    assert response.context["page"][0].overdue


def test_call_page_shows_what_was_done_and_the_standard_phrases(client, cw):
    case = closed_leak(cw)
    response = login(client, cw.specialist).get(reverse("cases:follow_up", args=[case.follow_ups.get().pk]))
    body = response.content.decode()
    assert "已修好" in body and "卫生间漏水" in body
    assert "请问是李娜吗" in body  # the greeting, with the customer filled in


def test_dissatisfied_needs_a_reason_then_reopens_the_case(client, cw):
    case = closed_leak(cw)
    follow_up = case.follow_ups.get()
    url = reverse("cases:follow_up", args=[follow_up.pk])
    login(client, cw.specialist)
    response = client.post(url, {"version": case.version, "outcome": "dissatisfied", "note": ""})
    assert response.status_code == 200 and response.context["form"].errors["note"]
    case.refresh_from_db()
    assert case.status == S.CLOSED
    response = client.post(
        url, {"version": case.version, "outcome": "dissatisfied", "note": "楼下仍有水渍"}, follow=True
    )
    case.refresh_from_db()
    assert case.status == S.REOPENED
    assert 'data-status="reopened"' in response.content.decode()


def test_unreachable_counts_an_attempt_and_keeps_the_call_pending(client, cw):
    case = closed_leak(cw)
    follow_up = case.follow_ups.get()
    login(client, cw.specialist)
    response = client.post(
        reverse("cases:follow_up", args=[follow_up.pk]),
        {"version": case.version, "outcome": "unreachable"},
        follow=True,
    )
    follow_up.refresh_from_db()
    assert (follow_up.attempts, follow_up.done_at) == (1, None)
    assert response.context["follow_up"].attempts == 1
    case.refresh_from_db()
    assert case.status == S.CLOSED


def test_follow_up_with_a_stale_version_changes_nothing(client, cw):
    case = closed_leak(cw)
    follow_up = case.follow_ups.get()
    response = login(client, cw.specialist).post(
        reverse("cases:follow_up", args=[follow_up.pk]),
        {"version": case.version - 1, "outcome": FollowUpOutcome.SATISFIED},
        follow=True,
    )
    assert conflict_message() in texts(response)
    follow_up.refresh_from_db()
    assert follow_up.done_at is None and follow_up.attempts == 0


def test_handlers_see_the_call_page_but_may_not_record(client, cw):
    case = closed_leak(cw)
    follow_up = case.follow_ups.get()
    login(client, cw.handler)
    url = reverse("cases:follow_up", args=[follow_up.pk])
    assert client.get(url).context["may_call"] is False
    assert client.post(url, {"version": case.version, "outcome": "satisfied"}).status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


def test_the_call_page_offers_to_reopen_or_escalate_a_dissatisfied_customer(client, cw):
    case = closed_leak(cw)
    follow_up = case.follow_ups.get()
    url = reverse("cases:follow_up", args=[follow_up.pk])
    body = login(client, cw.specialist).get(url).content.decode()
    assert 'name="then" value="reopen" checked' in body and 'name="then" value="escalate"' in body
    response = client.post(
        url,
        {"version": case.version, "outcome": "dissatisfied", "note": "业主要求经理出面", "then": "escalate"},
        follow=True,
    )
    case.refresh_from_db()
    assert (case.status, case.risk_major) == (S.REOPENED, True)
    assert response.context["case"].pk == case.pk
    assert [e["event"].kind for e in response.context["events"]][-2:] == ["followed_up", "escalated"]


def test_the_escalate_choice_applies_to_dissatisfied_only(client, cw):
    case = closed_leak(cw)
    follow_up = case.follow_ups.get()
    login(client, cw.specialist).post(
        reverse("cases:follow_up", args=[follow_up.pk]),
        {"version": case.version, "outcome": FollowUpOutcome.SATISFIED, "then": "escalate"},
    )
    case.refresh_from_db()
    assert (case.status, case.risk_major) == (S.FOLLOWED_UP, False)


def test_an_unknown_choice_for_a_dissatisfied_customer_is_a_field_error(client, cw):
    case = closed_leak(cw)
    follow_up = case.follow_ups.get()
    response = login(client, cw.specialist).post(
        reverse("cases:follow_up", args=[follow_up.pk]),
        {"version": case.version, "outcome": "dissatisfied", "note": "不满意", "then": "sideways"},
    )
    assert response.status_code == 200 and response.context["form"].errors["then"]
    case.refresh_from_db()
    follow_up.refresh_from_db()
    assert case.status == S.CLOSED and follow_up.attempts == 0
