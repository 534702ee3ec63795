"""Decomposition into tasks: plans, reports, acceptance, and closing over open tasks."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.cases import services as s
from guanjia.cases.choices import CaseStatus, CaseType, EventKind, TaskStatus
from guanjia.cases.errors import CaseConflict, CaseTransitionError

from .conftest import record

S = CaseStatus


def split(cw, case, *parts, version=1):
    return s.do_split_case(cw.specialist, case, expected_version=version, parts=list(parts))


def test_split_creates_one_task_per_department_with_deadlines_and_dispatches(cw):
    case = record(cw.specialist, cw.project)
    tasks = split(
        cw,
        case,
        {"title": "检查卫生间防水", "department": cw.dept},
        {"title": "核算维修费用", "department": cw.cost_dept},
    )
    case.refresh_from_db()
    assert case.status == S.DISPATCHED and case.version == 2
    assert [t.department for t in tasks] == [cw.dept, cw.cost_dept]
    assert all(t.due and t.status == TaskStatus.OPEN and t.created_by == cw.specialist for t in tasks)
    event = case.events.last()
    assert event.kind == EventKind.SPLIT and event.data == {"tasks": [t.pk for t in tasks]}


def test_split_bad_parts_name_the_field_and_create_nothing(cw):
    case = record(cw.specialist, cw.project)
    with pytest.raises(ValidationError) as exc:
        split(
            cw, case, {"title": "", "department": cw.dept}, {"title": "x"}, {"title": "y", "department": cw.other_dept}
        )
    assert {"title", "department"} <= set(exc.value.message_dict)
    assert not case.tasks.exists()


def test_task_flow_moves_the_case_to_awaiting_acceptance_when_all_work_is_done(cw):
    case = record(cw.specialist, cw.project)
    [task] = split(cw, case, {"title": "修复门禁", "department": cw.dept})
    task = s.do_propose_plan(cw.handler, task, expected_version=1, plan="更换读卡器")
    case.refresh_from_db()
    assert case.status == S.IN_PROGRESS and case.version == 3
    task = s.do_confirm_plan(cw.specialist, task, expected_version=2)
    case.refresh_from_db()
    assert case.plan_confirmed_at is not None and case.version == 3
    task = s.do_complete_task(cw.handler2, task, expected_version=3, report="已更换，测试正常")
    case.refresh_from_db()
    assert task.status == TaskStatus.DONE and case.status == S.AWAITING_ACCEPTANCE and case.resolved_at
    task = s.do_accept_task(cw.specialist, task, expected_version=4)
    assert task.status == TaskStatus.ACCEPTED and task.accepted_by == cw.specialist
    case = s.do_close_case(cw.specialist, case, expected_version=4)
    assert case.status == S.CLOSED
    assert [e for e in case.events.values_list("kind", flat=True) if e.startswith("task_")] == [
        EventKind.TASK_PLAN_PROPOSED,
        EventKind.TASK_PLAN_CONFIRMED,
        EventKind.TASK_COMPLETED,
        EventKind.TASK_ACCEPTED,
    ]


def test_only_the_task_department_proposes_and_completes(cw):
    case = record(cw.specialist, cw.project)
    [task] = split(cw, case, {"title": "修复门禁", "department": cw.dept})
    with pytest.raises(PermissionDenied):
        s.do_propose_plan(cw.cost_handler, task, expected_version=1, plan="x")
    with pytest.raises(PermissionDenied):
        s.do_propose_plan(cw.specialist2, task, expected_version=1, plan="x")
    with pytest.raises(ValidationError) as exc:
        s.do_propose_plan(cw.handler, task, expected_version=1, plan=" ")
    assert "plan" in exc.value.message_dict
    with pytest.raises(CaseTransitionError):
        s.do_complete_task(cw.handler, task, expected_version=1, report="做完了")


def test_a_handler_cannot_confirm_their_own_plan(cw):
    case = record(cw.specialist, cw.project)
    [task] = split(cw, case, {"title": "修复门禁", "department": cw.dept})
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="更换读卡器")
    with pytest.raises(PermissionDenied):
        s.do_confirm_plan(cw.handler, task, expected_version=2)


def test_stale_task_version_is_a_conflict(cw):
    case = record(cw.specialist, cw.project)
    [task] = split(cw, case, {"title": "修复门禁", "department": cw.dept})
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="方案一")
    with pytest.raises(CaseConflict):
        s.do_propose_plan(cw.handler2, task, expected_version=1, plan="方案二")


def test_rejected_plan_goes_back_to_the_department(cw):
    case = record(cw.specialist, cw.project)
    [task] = split(cw, case, {"title": "修复门禁", "department": cw.dept})
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="等厂家")
    with pytest.raises(ValidationError):
        s.do_reject_task(cw.specialist, task, expected_version=2, reason="")
    task = s.do_reject_task(cw.specialist, task, expected_version=2, reason="太慢，先临时修复")
    assert task.status == TaskStatus.REJECTED and task.rejection_note
    task = s.do_propose_plan(cw.handler, task, expected_version=3, plan="先临时修复")
    assert task.status == TaskStatus.PLAN_PROPOSED


def test_repair_needs_engineering_and_cost_acceptance_by_those_departments(cw):
    case = record(cw.specialist, cw.project, case_type=CaseType.REPAIR)
    [task] = split(cw, case, {"title": "更换水管", "department": cw.dept})
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="更换")
    s.do_confirm_plan(cw.specialist, task, expected_version=2)
    s.do_complete_task(cw.handler, task, expected_version=3, report="已更换")
    with pytest.raises(ValidationError) as exc:
        s.do_accept_task(cw.handler, task, expected_version=4)
    assert "acceptance" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        s.do_accept_task(cw.specialist, task, expected_version=4, acceptance="cost")
    task = s.do_accept_task(cw.handler2, task, expected_version=4, acceptance="engineering")
    assert task.status == TaskStatus.DONE and task.engineering_accepted_by == cw.handler2
    with pytest.raises(ValidationError):
        s.do_accept_task(cw.handler, task, expected_version=5, acceptance="engineering")
    task = s.do_accept_task(cw.cost_handler, task, expected_version=5, acceptance="cost")
    assert task.status == TaskStatus.ACCEPTED and task.cost_accepted_by == cw.cost_handler


def test_rejected_work_puts_the_case_back_in_progress(cw):
    case = record(cw.specialist, cw.project)
    [task] = split(cw, case, {"title": "修复门禁", "department": cw.dept})
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="更换读卡器")
    s.do_confirm_plan(cw.specialist, task, expected_version=2)
    s.do_complete_task(cw.handler, task, expected_version=3, report="已更换")
    s.do_reject_task(cw.specialist, task, expected_version=4, reason="业主说还是打不开")
    case.refresh_from_db()
    assert case.status == S.IN_PROGRESS and case.resolved_at is None
    task = s.do_complete_task(cw.handler, task, expected_version=5, report="重新接线")
    case.refresh_from_db()
    assert case.status == S.AWAITING_ACCEPTANCE


def test_case_cannot_close_over_open_tasks_without_a_reason(cw):
    case = record(cw.specialist, cw.project)
    [task, other] = split(
        cw, case, {"title": "修复", "department": cw.dept}, {"title": "核价", "department": cw.cost_dept}
    )
    with pytest.raises(ValidationError) as exc:
        s.do_close_case(cw.specialist, case, expected_version=2)
    assert "reason" in exc.value.message_dict
    case.refresh_from_db()
    assert case.status == S.DISPATCHED
    case = s.do_close_case(cw.specialist, case, expected_version=2, reason="业主撤诉")
    assert case.status == S.CLOSED
    event = case.events.last()
    assert event.data["reason"] == "业主撤诉"
    assert sorted(event.data["cancelled_tasks"]) == sorted([task.pk, other.pk])
    assert set(case.tasks.values_list("status", flat=True)) == {TaskStatus.CANCELLED}


def test_submit_for_acceptance_is_refused_while_tasks_are_open(cw):
    case = record(cw.specialist, cw.project)
    split(cw, case, {"title": "修复", "department": cw.dept})
    s.do_start_case(cw.specialist, case, expected_version=2)
    with pytest.raises(ValidationError):
        s.do_submit_for_acceptance(cw.specialist, case, expected_version=3)


def test_cancelling_the_last_open_task_completes_the_work(cw):
    case = record(cw.specialist, cw.project)
    [task, other] = split(
        cw, case, {"title": "修复", "department": cw.dept}, {"title": "核价", "department": cw.cost_dept}
    )
    s.do_propose_plan(cw.handler, task, expected_version=1, plan="修")
    s.do_confirm_plan(cw.specialist, task, expected_version=2)
    s.do_complete_task(cw.handler, task, expected_version=3, report="修好")
    s.do_cancel_task(cw.specialist, other, expected_version=1, reason="不涉及费用")
    case.refresh_from_db()
    assert case.status == S.AWAITING_ACCEPTANCE
