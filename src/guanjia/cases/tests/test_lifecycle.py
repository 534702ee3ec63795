"""The lifecycle of a request: every transition, and every refusal (wrong state, role or scope)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict

from guanjia.cases import services as s
from guanjia.cases.choices import (
    CaseStatus,
    CaseType,
    Channel,
    DissatisfiedAction,
    EventKind,
    FollowUpOutcome,
    SlaState,
    Visibility,
)
from guanjia.cases.errors import CaseConflict, CaseTransitionError
from guanjia.cases.filters import CaseFilterSet
from guanjia.cases.models import Case, CaseEvent
from guanjia.notifications.choices import NotificationKind
from guanjia.notifications.models import Notification
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff

from .conftest import at, record

S = CaseStatus


def kinds(case):
    return list(case.events.order_by("seq").values_list("kind", flat=True))


def test_recording_makes_the_recorder_first_contact_owner_with_number_deadlines_and_event(cw):
    case = record(cw.specialist, cw.project, units=[cw.unit_a], party=cw.owner_a)
    assert case.owner == cw.specialist
    assert case.status == S.RECORDED and case.version == 1
    assert case.number.startswith("TS-")
    assert case.resolution_due and case.response_due and case.reply_due
    assert case.sla_state == SlaState.RUNNING
    assert list(case.units.all()) == [cw.unit_a]
    event = case.events.get()
    assert (event.seq, event.kind, event.actor, event.to_status) == (1, EventKind.RECORDED, cw.specialist, S.RECORDED)
    assert event.data == {"routing": "unmatched"}


@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("description", {"description": "  "}),
        ("case_type", {"case_type": "gossip"}),
        ("channel", {"channel": "pigeon"}),
        ("caller_phone", {"caller_phone": "12345"}),
        ("party", {"caller_name": ""}),
    ],
)
def test_recording_bad_input_names_the_field_and_writes_nothing(cw, field, extra):
    with pytest.raises(ValidationError) as exc:
        record(cw.specialist, cw.project, **extra)
    assert field in exc.value.message_dict
    assert not Case.objects.exists()


def test_recording_outside_scope_is_refused_per_field(cw):
    with pytest.raises(ValidationError) as exc:
        record(cw.specialist, cw.other_project)
    assert "project" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        record(cw.specialist, cw.project, units=[cw.other_unit], party=cw.other_owner)
    assert {"units", "party"} <= set(exc.value.message_dict)
    # The butler of area B may not record on a unit of area A.
    with pytest.raises(ValidationError) as exc:
        record(cw.butler, cw.project, units=[cw.unit_a])
    assert "units" in exc.value.message_dict
    assert not Case.objects.exists()


def test_recording_is_refused_to_roles_that_do_not_take_requests(cw):
    for actor in (cw.handler, cw.inspector):
        with pytest.raises(PermissionDenied):
            record(actor, cw.project)


def test_anonymous_channels_need_no_caller(cw):
    case = record(cw.specialist, cw.project, channel=Channel.SUGGESTION_BOX, caller_name="")
    assert case.customer_name == ""


def test_same_idempotency_key_records_one_case(cw):
    first = record(cw.front_desk, cw.project, idempotency_key="abc-1")
    again = record(cw.front_desk, cw.project, idempotency_key="abc-1")
    assert first.pk == again.pk
    assert Case.objects.count() == 1


def test_full_lifecycle_writes_one_ordered_event_per_transition(cw):
    case = record(cw.specialist, cw.project, units=[cw.unit_b], party=cw.owner_b)
    case = s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept, assignee=cw.handler)
    assert (case.status, case.version, case.assignee, case.owner) == (S.DISPATCHED, 2, cw.handler, cw.specialist)
    assert case.responded_at is not None
    case = s.do_start_case(cw.handler, case, expected_version=2)
    case = s.do_submit_for_acceptance(cw.handler, case, expected_version=3)
    assert case.status == S.AWAITING_ACCEPTANCE and case.resolved_at is not None
    case = s.do_close_case(cw.specialist, case, expected_version=4, note="已修复，业主确认")
    assert case.status == S.CLOSED and case.closed_at and case.sla_state == SlaState.MET
    follow_up = case.follow_ups.get()
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=5, outcome=FollowUpOutcome.SATISFIED)
    case.refresh_from_db()
    assert case.status == S.FOLLOWED_UP
    case = s.do_archive_case(cw.team_lead, case, expected_version=6)
    assert case.status == S.ARCHIVED and case.version == 7
    assert kinds(case) == [
        EventKind.RECORDED,
        EventKind.DISPATCHED,
        EventKind.STARTED,
        EventKind.SUBMITTED,
        EventKind.CLOSED,
        EventKind.FOLLOWED_UP,
        EventKind.ARCHIVED,
    ]
    assert list(case.events.values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6, 7]
    transitions = list(case.events.values_list("from_status", "to_status"))
    assert transitions[1:] == [
        (S.RECORDED, S.DISPATCHED),
        (S.DISPATCHED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.AWAITING_ACCEPTANCE),
        (S.AWAITING_ACCEPTANCE, S.CLOSED),
        (S.CLOSED, S.FOLLOWED_UP),
        (S.FOLLOWED_UP, S.ARCHIVED),
    ]
    assert case.events.get(kind=EventKind.CLOSED).visibility == Visibility.CUSTOMER


def test_an_inquiry_can_be_answered_and_closed_at_once_by_its_owner(cw):
    case = record(cw.front_desk, cw.project, case_type=CaseType.INQUIRY)
    case = s.do_close_case(cw.front_desk, case, expected_version=1, note="已告知物业费标准")
    assert case.status == S.CLOSED
    assert case.responded_at == case.closed_at


def test_praise_gets_no_follow_up_and_can_be_archived_after_closing(cw):
    case = record(cw.specialist, cw.project, case_type=CaseType.PRAISE)
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    assert not case.follow_ups.exists()
    assert s.do_archive_case(cw.specialist, case, expected_version=2).status == S.ARCHIVED


def test_archiving_waits_for_the_follow_up(cw):
    case = record(cw.specialist, cw.project)
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    with pytest.raises(ValidationError):
        s.do_archive_case(cw.specialist, case, expected_version=2)


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        (s.do_start_case, {}),
        (s.do_submit_for_acceptance, {}),
        (s.do_resume_case, {}),
        (s.do_reopen_case, {"reason": "不满意"}),
        (s.do_archive_case, {}),
    ],
)
def test_illegal_transition_names_status_and_action_and_changes_nothing(cw, action, kwargs):
    case = record(cw.specialist, cw.project)
    with pytest.raises(CaseTransitionError) as exc:
        action(cw.admin, case, expected_version=1, **kwargs)
    assert exc.value.status == S.RECORDED
    assert isinstance(exc.value, ValidationError)
    assert str(S.RECORDED.label) in exc.value.messages[0]
    case.refresh_from_db()
    assert (case.status, case.version, case.events.count()) == (S.RECORDED, 1, 1)


def test_closed_case_cannot_be_dispatched_or_closed_again(cw):
    case = record(cw.specialist, cw.project)
    s.do_close_case(cw.specialist, case, expected_version=1)
    with pytest.raises(CaseTransitionError):
        s.do_dispatch_case(cw.specialist, case, expected_version=2, department=cw.dept)
    with pytest.raises(CaseTransitionError):
        s.do_close_case(cw.specialist, case, expected_version=2)


def test_stale_version_is_a_conflict_and_changes_nothing(cw):
    case = record(cw.specialist, cw.project)
    s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept)
    with pytest.raises(CaseConflict) as exc:
        s.do_dispatch_case(cw.specialist2, case, expected_version=1, assignee=cw.handler)
    assert (exc.value.current_version, exc.value.expected_version) == (2, 1)
    case.refresh_from_db()
    assert case.assignee is None and case.version == 2


def test_only_owner_or_supervisors_close(cw):
    case = record(cw.specialist, cw.project)
    for actor in (cw.specialist2, cw.handler, cw.butler, cw.front_desk):
        with pytest.raises(PermissionDenied):
            s.do_close_case(actor, case, expected_version=1)
    assert s.do_close_case(cw.team_lead, case, expected_version=1).status == S.CLOSED


def test_out_of_scope_staff_cannot_touch_a_case_even_with_a_strong_role(cw):
    case = record(cw.specialist, cw.project)
    with pytest.raises(PermissionDenied):
        s.do_dispatch_case(cw.outsider, case, expected_version=1, department=cw.dept)
    with pytest.raises(PermissionDenied):
        s.do_add_note(cw.outsider, case, note="看看")
    case.refresh_from_db()
    assert case.version == 1 and case.events.count() == 1


def test_dispatch_refuses_departments_and_people_outside_the_project(cw):
    case = record(cw.specialist, cw.project)
    with pytest.raises(ValidationError) as exc:
        s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.other_dept, assignee=cw.outsider)
    assert {"department", "assignee"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        s.do_dispatch_case(cw.specialist, case, expected_version=1)
    assert "department" in exc.value.message_dict


def test_handler_may_start_work_only_on_cases_of_their_department(cw):
    case = record(cw.specialist, cw.project)
    s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept)
    with pytest.raises(PermissionDenied):
        s.do_start_case(cw.cost_handler, case, expected_version=2)
    assert s.do_start_case(cw.handler2, case, expected_version=2).status == S.IN_PROGRESS


def test_suspend_and_resume_return_to_the_previous_status(cw):
    case = record(cw.specialist, cw.project)
    s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept, assignee=cw.handler)
    with pytest.raises(ValidationError) as exc:
        s.do_suspend_case(cw.handler, case, expected_version=2, reason="")
    assert "reason" in exc.value.message_dict
    case = s.do_suspend_case(cw.handler, case, expected_version=2, reason="业主出差，下周回来")
    assert case.status == S.SUSPENDED and case.sla_state == SlaState.PAUSED and case.paused_since
    with pytest.raises(PermissionDenied):
        s.do_resume_case(cw.specialist2, case, expected_version=3)
    case = s.do_resume_case(cw.specialist, case, expected_version=3)
    assert case.status == S.DISPATCHED and case.paused_since is None and case.sla_state == SlaState.RUNNING
    assert kinds(case)[-2:] == [EventKind.SUSPENDED, EventKind.RESUMED]


def test_reopen_needs_a_reason_and_restarts_the_clock(cw):
    case = record(cw.specialist, cw.project)
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    with pytest.raises(ValidationError):
        s.do_reopen_case(cw.specialist, case, expected_version=2, reason=" ")
    with pytest.raises(PermissionDenied):
        s.do_reopen_case(cw.specialist2, case, expected_version=2, reason="业主再次来电")
    case = s.do_reopen_case(cw.specialist, case, expected_version=2, reason="业主再次来电")
    assert case.status == S.REOPENED and case.reopened_count == 1
    assert case.closed_at is None and case.resolved_at is None
    # The pending follow-up of the first close is moot now.
    assert not case.follow_ups.filter(done_at__isnull=True).exists()


def test_dissatisfied_follow_up_reopens_the_case(cw):
    case = record(cw.specialist, cw.project)
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    follow_up = case.follow_ups.get()
    with pytest.raises(ValidationError) as exc:
        s.do_record_follow_up(cw.specialist, follow_up, expected_version=2, outcome="dissatisfied")
    assert "note" in exc.value.message_dict
    case.refresh_from_db()
    assert case.status == S.CLOSED
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=2, outcome="dissatisfied", note="漏水未修好")
    case.refresh_from_db()
    follow_up.refresh_from_db()
    assert case.status == S.REOPENED and case.reopened_count == 1
    assert follow_up.outcome == FollowUpOutcome.DISSATISFIED and follow_up.done_at
    event = case.events.last()
    assert (event.kind, event.from_status, event.to_status) == (EventKind.FOLLOWED_UP, S.CLOSED, S.REOPENED)
    assert event.data["then"] == DissatisfiedAction.REOPEN
    assert not case.risk_major and not case.events.filter(kind=EventKind.ESCALATED).exists()


def test_dissatisfied_follow_up_told_to_reopen_only_reopens(cw):
    case = s.do_close_case(cw.specialist, record(cw.specialist, cw.project), expected_version=1)
    s.do_record_follow_up(
        cw.specialist, case.follow_ups.get(), expected_version=2, outcome="dissatisfied", note="还在漏", then="reopen"
    )
    case.refresh_from_db()
    assert case.status == S.REOPENED and not case.risk_major
    assert kinds(case)[-1] == EventKind.FOLLOWED_UP


def test_dissatisfied_follow_up_can_escalate_with_the_reason(cw, django_capture_on_commit_callbacks):
    # Supervisors of another project and of the whole group are not this request's escalation line.
    make_staff("other_lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=cw.other_project)
    make_staff("group_manager", Role.MANAGER, ScopeLevel.GROUP)
    for staff in (cw.team_lead, cw.manager):
        staff.phone = "13800001234"
        staff.save(update_fields=["phone"])
    case = s.do_close_case(cw.specialist, record(cw.specialist, cw.project), expected_version=1)
    follow_up = case.follow_ups.get()
    with django_capture_on_commit_callbacks(execute=True):
        s.do_record_follow_up(
            cw.specialist,
            follow_up,
            expected_version=2,
            outcome=FollowUpOutcome.DISSATISFIED,
            note="第三次来电仍未解决，业主要求领导出面",
            then=DissatisfiedAction.ESCALATE,
        )
    case.refresh_from_db()
    follow_up.refresh_from_db()
    # Reopened (the problem is not solved) and handed up, in one version step.
    assert (case.status, case.reopened_count, case.version, case.risk_major) == (S.REOPENED, 1, 3, True)
    assert follow_up.outcome == FollowUpOutcome.DISSATISFIED and follow_up.done_at
    followed, escalated = case.events.order_by("-seq")[1], case.events.order_by("-seq")[0]
    assert (followed.kind, followed.from_status, followed.to_status) == (EventKind.FOLLOWED_UP, S.CLOSED, S.REOPENED)
    assert followed.data["then"] == DissatisfiedAction.ESCALATE
    assert (escalated.kind, escalated.from_status, escalated.to_status) == (EventKind.ESCALATED, S.REOPENED, S.REOPENED)
    assert (escalated.actor, escalated.visibility) == (cw.specialist, Visibility.INTERNAL)
    assert escalated.note == "第三次来电仍未解决，业主要求领导出面"
    assert escalated.data == {"follow_up": follow_up.pk, "flagged": ["risk_major"]}
    # The major view shows it.
    assert case in CaseFilterSet(QueryDict("view=major"), cw.specialist).qs
    # The project's team lead and the company's manager hear of it, by SMS too, with the reason.
    told = Notification.objects.filter(case=case, kind=NotificationKind.CASE_ESCALATED)
    assert sorted(told.values_list("recipient__username", flat=True)) == ["manager", "team_lead"]
    assert all(n.by_sms and "业主要求领导出面" in n.body for n in told)
    # The reopening itself is announced as before (owner and team lead; not the caller themself).
    reopened = Notification.objects.filter(case=case, kind=NotificationKind.CASE_REOPENED)
    assert sorted(reopened.values_list("recipient__username", flat=True)) == ["team_lead"]


def test_escalating_a_request_already_flagged_major_still_hands_it_up(cw):
    case = record(cw.specialist, cw.project, risk_major=True)
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    s.do_record_follow_up(
        cw.specialist, case.follow_ups.get(), expected_version=2, outcome="dissatisfied", note="不满意", then="escalate"
    )
    escalated = case.events.order_by("-seq").first()
    assert (escalated.kind, escalated.data["flagged"]) == (EventKind.ESCALATED, [])


@pytest.mark.parametrize(
    ("outcome", "then", "note"),
    [
        ("dissatisfied", "sideways", "不满意"),
        ("dissatisfied", "", "不满意"),
        ("satisfied", "escalate", ""),
        ("basically_satisfied", "reopen", ""),
        ("unreachable", "escalate", ""),
    ],
)
def test_follow_up_then_is_refused_unless_a_known_value_with_dissatisfied(cw, outcome, then, note):
    case = s.do_close_case(cw.specialist, record(cw.specialist, cw.project), expected_version=1)
    follow_up = case.follow_ups.get()
    with pytest.raises(ValidationError) as exc:
        s.do_record_follow_up(cw.specialist, follow_up, expected_version=2, outcome=outcome, note=note, then=then)
    assert set(exc.value.message_dict) == {"then"}
    case.refresh_from_db()
    follow_up.refresh_from_db()
    assert (case.status, case.version, case.risk_major) == (S.CLOSED, 2, False)
    assert (follow_up.attempts, follow_up.done_at, follow_up.outcome) == (0, None, "")
    assert kinds(case)[-1] == EventKind.CLOSED


def test_escalating_follow_up_needs_the_reason_the_role_and_the_scope(cw):
    case = record(cw.specialist, cw.project)
    s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept)
    case = s.do_close_case(cw.specialist, case, expected_version=2)
    follow_up = case.follow_ups.get()
    escalate = {"expected_version": 3, "outcome": "dissatisfied", "then": "escalate"}
    with pytest.raises(ValidationError) as exc:
        s.do_record_follow_up(cw.specialist, follow_up, note=" ", **escalate)
    assert "note" in exc.value.message_dict
    for actor in (cw.handler, cw.inspector, cw.outsider):
        with pytest.raises(PermissionDenied):
            s.do_record_follow_up(actor, follow_up, note="不满意", **escalate)
    with pytest.raises(CaseConflict):
        s.do_record_follow_up(cw.specialist, follow_up, note="不满意", **{**escalate, "expected_version": 2})
    case.refresh_from_db()
    assert (case.status, case.version, case.risk_major) == (S.CLOSED, 3, False)
    assert not case.events.filter(kind=EventKind.ESCALATED).exists()


def test_a_recorded_follow_up_cannot_be_escalated_afterwards(cw):
    case = s.do_close_case(cw.specialist, record(cw.specialist, cw.project), expected_version=1)
    follow_up = case.follow_ups.get()
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=2, outcome="satisfied")
    with pytest.raises(ValidationError) as exc:
        s.do_record_follow_up(
            cw.specialist, follow_up, expected_version=3, outcome="dissatisfied", note="改主意了", then="escalate"
        )
    assert "outcome" in exc.value.message_dict
    case.refresh_from_db()
    assert (case.status, case.risk_major) == (S.FOLLOWED_UP, False)


def test_unreachable_follow_up_counts_an_attempt_and_stays_pending(cw):
    case = record(cw.specialist, cw.project)
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    follow_up = case.follow_ups.get()
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=2, outcome="unreachable", note="无人接听")
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=3, outcome="unreachable")
    follow_up.refresh_from_db()
    case.refresh_from_db()
    assert (follow_up.attempts, follow_up.done_at, case.status) == (2, None, S.CLOSED)
    assert Case.objects.awaiting_follow_up().filter(pk=case.pk).exists()
    with pytest.raises(ValidationError) as exc:
        s.do_record_follow_up(cw.specialist, follow_up, expected_version=4, outcome="so-so")
    assert "outcome" in exc.value.message_dict


def test_unreachable_calls_are_retried_at_other_times_then_closed_as_unreachable(cw, clock):
    clock.set(at(2025, 11, 3, 9, 0))  # a Monday
    case = record(cw.specialist, cw.project)
    case = s.do_close_case(cw.specialist, case, expected_version=1)
    follow_up = case.follow_ups.get()
    clock.set(at(2025, 11, 3, 10, 0))
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=2, outcome="unreachable")
    follow_up.refresh_from_db()
    assert follow_up.due == at(2025, 11, 3, 13, 0)  # two working hours run out at noon: after lunch
    clock.set(at(2025, 11, 3, 13, 0))
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=3, outcome="unreachable")
    follow_up.refresh_from_db()
    assert follow_up.due == at(2025, 11, 4, 10, 30)  # six working hours later: the next morning
    clock.set(at(2025, 11, 4, 10, 30))
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=4, outcome="unreachable", note="三次未接通")
    follow_up.refresh_from_db()
    case.refresh_from_db()
    assert (follow_up.attempts, follow_up.outcome) == (3, FollowUpOutcome.UNREACHABLE)
    assert follow_up.done_at == at(2025, 11, 4, 10, 30)
    assert case.status == S.FOLLOWED_UP
    assert not Case.objects.awaiting_follow_up().filter(pk=case.pk).exists()


def test_follow_up_is_refused_to_handlers(cw):
    case = record(cw.specialist, cw.project)
    s.do_dispatch_case(cw.specialist, case, expected_version=1, department=cw.dept)
    case = s.do_close_case(cw.specialist, case, expected_version=2)
    with pytest.raises(PermissionDenied):
        s.do_record_follow_up(cw.handler, case.follow_ups.get(), expected_version=3, outcome="satisfied")


def test_notes_keep_internal_and_customer_text_apart_without_bumping_the_version(cw):
    case = record(cw.specialist, cw.project)
    s.do_add_note(cw.specialist, case, note="业主情绪激动，注意沟通")
    s.do_add_note(cw.specialist, case, note="已安排师傅明天上门", visibility=Visibility.CUSTOMER)
    case.refresh_from_db()
    assert case.version == 1
    assert case.responded_at is not None and case.replied_at is not None
    customer = case.events.filter(visibility=Visibility.CUSTOMER)
    assert list(customer.values_list("note", flat=True)) == ["已安排师傅明天上门"]
    with pytest.raises(ValidationError) as exc:
        s.do_add_note(cw.specialist, case, note="")
    assert "note" in exc.value.message_dict


def test_events_are_immutable(cw):
    case = record(cw.specialist, cw.project)
    event = case.events.get()
    event.note = "改写历史"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        CaseEvent.objects.filter(case=case).update(note="改写历史")


def test_notifications_are_scheduled_after_commit(cw, django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = record(cw.specialist, cw.project, risk_media=True)
    # The case event's hook, and the e-mail it queues in turn.
    assert len(callbacks) == 2
    assert case.number in caplog.text


def test_a_plain_intake_schedules_no_notification_hook(cw, django_capture_on_commit_callbacks):
    # Nobody is told about a request recorded without risk flags; routing's dispatch would be.
    with django_capture_on_commit_callbacks() as callbacks:
        record(cw.specialist, cw.project)
    assert callbacks == []


def test_merge_closes_the_duplicate_and_moves_its_units(cw):
    original = record(cw.specialist, cw.project, units=[cw.unit_a])
    duplicate = record(cw.front_desk, cw.project, units=[cw.unit_b])
    s.do_merge_cases(cw.specialist, duplicate, into=original, expected_version=1)
    duplicate.refresh_from_db()
    original.refresh_from_db()
    assert duplicate.status == S.CLOSED and duplicate.merged_into == original
    assert set(original.units.all()) == {cw.unit_a, cw.unit_b}
    assert duplicate.events.last().kind == EventKind.MERGED
    assert original.events.last().kind == EventKind.MERGE_RECEIVED
    with pytest.raises(ValidationError):
        s.do_merge_cases(cw.specialist, original, into=original, expected_version=None)


def test_owner_changes_only_with_a_supervisor_and_an_event(cw):
    case = record(cw.front_desk, cw.project)
    with pytest.raises(PermissionDenied):
        s.do_change_case_owner(cw.specialist, case, expected_version=1, new_owner=cw.specialist, reason="交接")
    case = s.do_change_case_owner(cw.team_lead, case, expected_version=1, new_owner=cw.specialist, reason="前台交接")
    assert case.owner == cw.specialist
    event = case.events.last()
    assert event.kind == EventKind.OWNER_CHANGED
    assert event.data == {"from": cw.front_desk.pk, "to": cw.specialist.pk}
