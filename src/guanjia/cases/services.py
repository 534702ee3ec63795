"""Every write to service requests: one function per transition of the lifecycle.

    recorded → dispatched → in_progress → awaiting_acceptance → closed → followed_up → archived
    (suspended pauses the clock and returns to where it was; closed/followed_up can be reopened)

Each function checks who may act (role, scope, being owner or assignee) and when (allowed
statuses), locks the case row, compares `expected_version` (None skips the check, for system
callers), saves, bumps the version, writes one `CaseEvent` and schedules notifications after
commit. Task changes lock the case too but bump only the task's version, unless they move the
case's status: departments working in parallel should not invalidate the owner's open page.
Notes neither change the state nor bump the version, for the same reason.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.files import safe_file_name
from guanjia.estate.identity import normalize_phone
from guanjia.estate.queries import sees_party, sees_unit
from guanjia.org.scope import sees_project

from . import tasks as side_effects
from .choices import (
    FOLLOW_UP_TYPES,
    OPEN_STATUSES,
    UNFINISHED_TASK_STATUSES,
    WORK_DONE_TASK_STATUSES,
    Acceptance,
    CaseStatus,
    CaseType,
    Channel,
    DissatisfiedAction,
    EventKind,
    FollowUpOutcome,
    Severity,
    SlaState,
    TaskStatus,
    Visibility,
)
from .errors import CaseConflict, CaseTransitionError
from .models import Attachment, Case, CaseEvent, CaseTask, CaseUnit, Category, FollowUp
from .numbering import next_case_number
from .permissions import may, may_accept_as
from .queries import cases_for
from .repeat import find_repeat_of
from .routing import covers_project, route_case
from .search import index_search_text, new_case_search_text, refresh_search_text
from .sla import apply_sla, finish_sla, follow_up_due, follow_up_retry_due, pause_sla, resume_sla, task_due

S = CaseStatus
# Channels where nobody may have left a name: the request is recorded anyway.
ANONYMOUS_CHANNELS = frozenset({Channel.SUGGESTION_BOX, Channel.PUBLIC_OPINION, Channel.PATROL})
# Allowed from-states of each case action.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "dispatch": frozenset({S.RECORDED, S.DISPATCHED, S.REOPENED}),
    "start": frozenset({S.DISPATCHED, S.REOPENED}),
    "submit": frozenset({S.IN_PROGRESS}),
    "close": frozenset({S.RECORDED, S.DISPATCHED, S.IN_PROGRESS, S.AWAITING_ACCEPTANCE, S.REOPENED}),
    "follow_up": frozenset({S.CLOSED}),
    "archive": frozenset({S.CLOSED, S.FOLLOWED_UP}),
    "suspend": frozenset({S.RECORDED, S.DISPATCHED, S.IN_PROGRESS, S.AWAITING_ACCEPTANCE, S.REOPENED}),
    "resume": frozenset({S.SUSPENDED}),
    "reopen": frozenset({S.CLOSED, S.FOLLOWED_UP}),
    "merge": frozenset(OPEN_STATUSES | {S.SUSPENDED}),
    "split": frozenset(OPEN_STATUSES),
    "notice": frozenset(OPEN_STATUSES),
}


# ------------------------------------------------------------------------------------------------ helpers


def _require(actor, action: str, case=None, task=None) -> None:
    if not may(actor, action, case, task):
        raise PermissionDenied(_("You may not do this."))


def _lock_case(actor, case_or_id, expected_version: int | None) -> Case:
    """The case row, locked for this transaction, after checking scope and version."""
    case_id = getattr(case_or_id, "pk", case_or_id)
    try:
        case = Case.objects.select_for_update(of=("self",)).select_related("project__company").get(pk=case_id)
    except Case.DoesNotExist:
        raise PermissionDenied(_("This request does not exist or is outside your scope.")) from None
    if not cases_for(actor).filter(pk=case_id).exists():
        raise PermissionDenied(_("This request does not exist or is outside your scope."))
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(case.version, expected_version)
    return case


def _lock_task(actor, task_or_id, expected_version: int | None) -> tuple[Case, CaseTask]:
    task_id = getattr(task_or_id, "pk", task_or_id)
    case_id = CaseTask.objects.filter(pk=task_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise PermissionDenied(_("This task does not exist or is outside your scope."))
    case = _lock_case(actor, case_id, None)
    task = CaseTask.objects.select_for_update().get(pk=task_id)
    if expected_version is not None and task.version != expected_version:
        raise CaseConflict(task.version, expected_version)
    return case, task


def _check_from(case: Case, action: str) -> None:
    if case.status not in ALLOWED_FROM[action]:
        raise CaseTransitionError(case.status, action)


def _save(case: Case) -> None:
    case.version += 1
    case.save()


def _event(
    case: Case,
    actor,
    kind: str,
    from_status: str,
    *,
    note: str = "",
    visibility: str = Visibility.INTERNAL,
    data: dict[str, Any] | None = None,
    seq: int | None = None,
) -> CaseEvent:
    """Append one event to the case's timeline (the case row is locked, so `seq` cannot collide).

    `seq` is given only by intake, which knows the timeline of a new case is empty.
    """
    if seq is None:
        seq = (CaseEvent.objects.filter(case=case).aggregate(m=Max("seq"))["m"] or 0) + 1
    event = CaseEvent.objects.create(
        case=case,
        seq=seq,
        actor=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        from_status=from_status,
        to_status=case.status,
        visibility=visibility,
        note=note,
        data=data or {},
    )
    if note:
        refresh_search_text(case)
    if side_effects.notifies_anyone(event):
        transaction.on_commit(partial(side_effects.notify_case_event, event.pk))
    return event


def _responded(case: Case, now: datetime) -> None:
    if case.responded_at is None:
        case.responded_at = now


def _text(value: str | None) -> str:
    return (value or "").strip()


def _staff_errors(case_project, *, department=None, assignee=None) -> dict[str, str]:
    errors = {}
    if department is not None:
        company = case_project.company
        if department.company_id not in (company.pk, company.parent_id) or (
            department.project_id and department.project_id != case_project.pk
        ):
            errors["department"] = _("This department does not serve the request's project.")
    if assignee is not None and (not assignee.is_active or not covers_project(assignee, case_project.pk)):
        errors["assignee"] = _("This person cannot see the request's project.")
    return errors


def _unfinished_tasks(case: Case):
    return case.tasks.filter(status__in=UNFINISHED_TASK_STATUSES)


# ------------------------------------------------------------------------------------------------ intake


def do_record_case(
    actor,
    *,
    project,
    case_type: str,
    channel: str,
    description: str,
    category: Category | None = None,
    severity: str = Severity.NORMAL,
    units: Iterable = (),
    party=None,
    caller_name: str = "",
    caller_phone: str = "",
    received_at: datetime | None = None,
    risk_major: bool = False,
    risk_group: bool = False,
    risk_media: bool = False,
    risk_government: bool = False,
    repeat_of: Case | None = None,
    idempotency_key: str = "",
    route: bool = True,
) -> Case:
    """Record a new request owned by `actor` (first-contact owner), set its deadlines and route it.

    The same `idempotency_key` sent again by the same person returns the case already recorded
    (its `recorded_now` is False; a case recorded by this call has it True).
    When a routing rule matches, the case is dispatched at once (a second event, by the system).
    Intake is the hottest write of the system, so the checks below use what the caller loaded
    (the scope kept on `actor`, the units' buildings) instead of asking the database again.
    """
    _require(actor, "record")
    # A repeated key is found by the unique constraint on (owner, key) when the insert fails, so
    # a first intake pays no look-up; a retry is checked and numbered again, then answered below.
    key = _text(idempotency_key)[:64]
    now = timezone.now()
    units = list(units)
    errors: dict[str, Any] = {}
    description = _text(description)
    if not description:
        errors["description"] = _("Describe the request.")
    if case_type not in CaseType.values:
        errors["case_type"] = _("Choose a type.")
    if channel not in Channel.values:
        errors["channel"] = _("Choose a channel.")
    if severity not in Severity.values:
        errors["severity"] = _("Choose a severity.")
    if project is None or not sees_project(actor, project.pk):
        errors["project"] = _("Choose a project in your scope.")
    else:
        if any(u.project_id != project.pk or not sees_unit(actor, u) for u in units):
            errors["units"] = _("Choose units of the request's project that you can see.")
        if party is not None and not sees_party(actor, party):
            errors["party"] = _("Choose a customer you can see.")
        if repeat_of is not None and not cases_for(actor).filter(pk=repeat_of.pk, project=project).exists():
            errors["repeat_of"] = _("Choose an earlier request of the same project.")
    if category is not None and not category.active:
        errors["category"] = _("This category is no longer in use.")
    try:
        caller_phone = normalize_phone(caller_phone)
    except ValidationError as exc:
        errors["caller_phone"] = exc.messages
    caller_name = _text(caller_name)
    if party is None and not caller_name and not caller_phone and channel not in ANONYMOUS_CHANNELS:
        errors["party"] = _("Choose a customer or enter the caller's name or phone.")
    if received_at is not None and (timezone.is_naive(received_at) or received_at > now + timedelta(minutes=5)):
        errors["received_at"] = _("Enter a time in the past.")
    if errors:
        raise ValidationError(errors)
    repeat_detected = repeat_of is None
    if repeat_detected:
        repeat_of = find_repeat_of(
            project=project, case_type=case_type, category=category, units=units, received_at=received_at or now
        )

    # Taken before the transaction: concurrent intakes wait on the day's counter for one statement only.
    number = next_case_number()
    try:
        with transaction.atomic():
            case = Case(
                number=number,
                project=project,
                case_type=case_type,
                channel=channel,
                category=category,
                severity=severity,
                party=party,
                caller_name=caller_name,
                caller_phone=caller_phone,
                description=description,
                received_at=received_at or now,
                owner=actor,
                status=S.RECORDED,
                risk_major=risk_major or severity == Severity.MAJOR,
                risk_group=risk_group,
                risk_media=risk_media,
                risk_government=risk_government,
                repeat_of=repeat_of,
                search_text=new_case_search_text(description, units),
                intake_key=key,
            )
            apply_sla(case)
            case.save()
            CaseUnit.objects.bulk_create([CaseUnit(case=case, unit=u, received_at=case.received_at) for u in units])
            index_search_text(case)
            found = route_case(case, {u.building_id for u in units}) if route else None
            _event(
                case,
                actor,
                EventKind.RECORDED,
                "",
                seq=1,
                data={
                    "routing": f"rule:{found.rule.pk}" if found else "unmatched" if route else "skipped",
                    **({"repeat_of": repeat_of.pk, "repeat_detected": repeat_detected} if repeat_of else {}),
                },
            )
            if found is not None:
                case.department = found.department
                case.assignee = found.assignee
                case.status = S.DISPATCHED
                apply_sla(case)
                _save(case)
                _event(
                    case,
                    None,
                    EventKind.DISPATCHED,
                    S.RECORDED,
                    seq=2,
                    data={
                        "rule": found.rule.pk,
                        "department": found.department.pk,
                        "assignee": found.assignee.pk if found.assignee else None,
                    },
                )
    except IntegrityError:
        if key:
            existing = _intake_by_key(actor, key)
            if existing is not None:
                return existing
        raise
    case.recorded_now = True
    return case


def _intake_by_key(actor, key: str) -> Case | None:
    return Case.objects.filter(~Q(intake_key=""), owner=actor, intake_key=key).order_by().first()


# ------------------------------------------------------------------------------------------------ lifecycle


@transaction.atomic
def do_dispatch_case(
    actor, case, *, expected_version: int | None, department=None, assignee=None, note: str = ""
) -> Case:
    """Send the case to a department and/or person. The first-contact owner stays the owner."""
    case = _lock_case(actor, case, expected_version)
    _require(actor, "dispatch", case)
    _check_from(case, "dispatch")
    if department is None and assignee is None:
        raise ValidationError({"department": _("Choose a department or a person.")})
    errors = _staff_errors(case.project, department=department, assignee=assignee)
    if errors:
        raise ValidationError(errors)
    before = case.status
    case.department = department
    case.assignee = assignee
    case.status = S.DISPATCHED
    _responded(case, timezone.now())
    apply_sla(case)
    _save(case)
    _event(
        case,
        actor,
        EventKind.DISPATCHED,
        before,
        note=_text(note),
        data={"department": getattr(department, "pk", None), "assignee": getattr(assignee, "pk", None)},
    )
    return case


@transaction.atomic
def do_start_case(actor, case, *, expected_version: int | None, note: str = "") -> Case:
    case = _lock_case(actor, case, expected_version)
    _require(actor, "start", case)
    _check_from(case, "start")
    before = case.status
    case.status = S.IN_PROGRESS
    _responded(case, timezone.now())
    _save(case)
    _event(case, actor, EventKind.STARTED, before, note=_text(note))
    return case


@transaction.atomic
def do_submit_for_acceptance(actor, case, *, expected_version: int | None, note: str = "") -> Case:
    """The work is done; the owner checks it with the customer (and engineering/cost for repairs)."""
    case = _lock_case(actor, case, expected_version)
    _require(actor, "submit", case)
    _check_from(case, "submit")
    pending = case.tasks.filter(status__in=UNFINISHED_TASK_STATUSES - WORK_DONE_TASK_STATUSES).count()
    if pending:
        raise ValidationError(_("%(count)s tasks are not done yet.") % {"count": pending})
    _to_awaiting_acceptance(case, timezone.now())
    _save(case)
    _event(case, actor, EventKind.SUBMITTED, S.IN_PROGRESS, note=_text(note))
    return case


def _to_awaiting_acceptance(case: Case, now: datetime) -> None:
    case.status = S.AWAITING_ACCEPTANCE
    if case.resolved_at is None:
        case.resolved_at = now


@transaction.atomic
def do_close_case(
    actor,
    case,
    *,
    expected_version: int | None,
    note: str = "",
    reason: str = "",
    visibility: str = Visibility.CUSTOMER,
) -> Case:
    """Close the case. Open tasks block closing unless a reason is given; they are then cancelled.

    Types that get a follow-up call get a `FollowUp` due by the policy (12 working hours by default).
    """
    case = _lock_case(actor, case, expected_version)
    _require(actor, "close", case)
    _check_from(case, "close")
    reason = _text(reason)
    unfinished = list(_unfinished_tasks(case))
    if unfinished and not reason:
        raise ValidationError(
            {"reason": _("%(count)s tasks are still open; give a reason to close anyway.") % {"count": len(unfinished)}}
        )
    now = timezone.now()
    for task in unfinished:
        task.status = TaskStatus.CANCELLED
        task.version += 1
        task.save(update_fields=["status", "version", "updated_at"])
    before = case.status
    case.status = S.CLOSED
    _responded(case, now)
    case.resolved_at = case.resolved_at or now
    case.closed_at = now
    finish_sla(case)
    _save(case)
    data: dict[str, Any] = {"sla": case.sla_state}
    if reason:
        data["reason"] = reason
        data["cancelled_tasks"] = [t.pk for t in unfinished]
    if case.case_type in FOLLOW_UP_TYPES:
        data["follow_up"] = FollowUp.objects.create(case=case, due=follow_up_due(case, now)).pk
    _event(case, actor, EventKind.CLOSED, before, note=_text(note), visibility=visibility, data=data)
    return case


@transaction.atomic
def do_record_follow_up(
    actor,
    follow_up,
    *,
    expected_version: int | None,
    outcome: str,
    note: str = "",
    then: str | None = None,
) -> FollowUp:
    """Record a follow-up call. Satisfied → followed_up; dissatisfied → reopened; unreachable → try again later.

    A dissatisfied customer's problem is not solved, so the case reopens either way; `then`
    (`DissatisfiedAction`, only with the outcome "dissatisfied") says what else happens: "reopen" (the
    default, also when `then` is None) hands it back to the people working on it; "escalate" also flags
    it as a major complaint and writes an `ESCALATED` event with the reason, which tells the project's
    team leads and the company's managers. The owner portal calls this too when an owner rates a closed
    request low, so the rule lives here and nowhere else.
    """
    follow_up_id = getattr(follow_up, "pk", follow_up)
    case_id = FollowUp.objects.filter(pk=follow_up_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise PermissionDenied(_("This follow-up does not exist or is outside your scope."))
    case = _lock_case(actor, case_id, expected_version)
    _require(actor, "follow_up", case)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up_id)
    if outcome not in FollowUpOutcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    if then is not None and then not in DissatisfiedAction.values:
        raise ValidationError({"then": _("Choose to handle the request again or to escalate it.")})
    if then is not None and outcome != FollowUpOutcome.DISSATISFIED:
        raise ValidationError({"then": _("Only a dissatisfied customer's request is handled again or escalated.")})
    dissatisfied = outcome == FollowUpOutcome.DISSATISFIED
    escalate = dissatisfied and then == DissatisfiedAction.ESCALATE
    if follow_up.done_at is not None:
        raise ValidationError({"outcome": _("This follow-up has already been recorded.")})
    _check_from(case, "follow_up")
    now = timezone.now()
    note = _text(note)
    follow_up.attempts += 1
    follow_up.agent = actor
    follow_up.note = "\n".join(filter(None, [follow_up.note, note]))
    before = case.status
    retry_due = None
    if outcome == FollowUpOutcome.DISSATISFIED and not note:
        raise ValidationError({"note": _("Write down why the customer is dissatisfied.")})
    if outcome == FollowUpOutcome.UNREACHABLE:
        retry_due = follow_up_retry_due(case, follow_up.attempts, now)
    if retry_due is not None:
        follow_up.due = retry_due
    else:
        follow_up.outcome = outcome
        follow_up.done_at = now
    follow_up.save()
    if outcome in (FollowUpOutcome.SATISFIED, FollowUpOutcome.BASICALLY_SATISFIED) or (
        outcome == FollowUpOutcome.UNREACHABLE and retry_due is None
    ):
        # Three unreachable calls end the follow-up; the case leaves the follow-up queue.
        case.status = S.FOLLOWED_UP
    elif dissatisfied:
        _reopen(case, now)
    flagged = []
    if escalate and not case.risk_major:
        # The major view and the risk badge show it from now on.
        case.risk_major = True
        flagged.append("risk_major")
    _save(case)
    _event(
        case,
        actor,
        EventKind.FOLLOWED_UP,
        before,
        note=note,
        data={
            "follow_up": follow_up.pk,
            "outcome": outcome,
            "attempt": follow_up.attempts,
            "retry_due": retry_due.isoformat() if retry_due else None,
            **({"then": then or DissatisfiedAction.REOPEN} if dissatisfied else {}),
        },
    )
    if escalate:
        # Its own event, so the hand-up shows on the timeline and notifies the supervisors (cases/tasks.py).
        _event(
            case,
            actor,
            EventKind.ESCALATED,
            case.status,
            note=note,
            data={"follow_up": follow_up.pk, "flagged": flagged},
        )
    return follow_up


def _reopen(case: Case, now: datetime) -> None:
    case.status = S.REOPENED
    case.reopened_count += 1
    case.resolved_at = None
    case.closed_at = None
    apply_sla(case, start=now)


@transaction.atomic
def do_archive_case(actor, case, *, expected_version: int | None) -> Case:
    case = _lock_case(actor, case, expected_version)
    _require(actor, "archive", case)
    _check_from(case, "archive")
    if case.follow_ups.filter(done_at__isnull=True).exists():
        raise ValidationError(_("The follow-up call has not been recorded yet."))
    before = case.status
    case.status = S.ARCHIVED
    _save(case)
    _event(case, actor, EventKind.ARCHIVED, before)
    return case


@transaction.atomic
def do_suspend_case(actor, case, *, expected_version: int | None, reason: str) -> Case:
    """Pause the case (waiting for the customer or a third party); the SLA clock stops."""
    case = _lock_case(actor, case, expected_version)
    _require(actor, "suspend", case)
    _check_from(case, "suspend")
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": _("Say what the request is waiting for.")})
    now = timezone.now()
    before = case.status
    case.resume_status = before
    case.status = S.SUSPENDED
    _responded(case, now)
    pause_sla(case, now)
    _save(case)
    _event(case, actor, EventKind.SUSPENDED, before, note=reason)
    return case


@transaction.atomic
def do_resume_case(actor, case, *, expected_version: int | None, note: str = "") -> Case:
    """Restart the clock; deadlines move later by exactly the working time spent suspended."""
    case = _lock_case(actor, case, expected_version)
    _require(actor, "resume", case)
    _check_from(case, "resume")
    paused = resume_sla(case, timezone.now())
    case.status = case.resume_status or S.RECORDED
    case.resume_status = ""
    _save(case)
    _event(
        case, actor, EventKind.RESUMED, S.SUSPENDED, note=_text(note), data={"paused_seconds": paused.total_seconds()}
    )
    return case


@transaction.atomic
def do_reopen_case(actor, case, *, expected_version: int | None, reason: str) -> Case:
    """Reopen a closed case (the customer is not satisfied); the resolution clock starts again."""
    case = _lock_case(actor, case, expected_version)
    _require(actor, "reopen", case)
    _check_from(case, "reopen")
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why the request is reopened.")})
    now = timezone.now()
    before = case.status
    # A follow-up still pending is moot: the next close schedules a new one.
    case.follow_ups.filter(done_at__isnull=True).update(done_at=now, note=_("Request reopened"))
    _reopen(case, now)
    _save(case)
    _event(case, actor, EventKind.REOPENED, before, note=reason)
    return case


@transaction.atomic
def do_record_notice(actor, case, *, expected_version: int | None, note: str) -> Case:
    """Record that the written notice to the property company went out (a complaint about it: 8 hours).

    Only for an open case that has a notice deadline (`sla.apply_sla` sets one for a complaint handed to
    the property company), once. `note` says how it was sent, e.g. the notice number; it stays internal.
    From then on the notice clock is met (or late) and the sweep no longer watches it.
    """
    case = _lock_case(actor, case, expected_version)
    _require(actor, "notice", case)
    _check_from(case, "notice")
    if case.notice_due is None:
        raise ValidationError(_("This request needs no written notice to the property company."))
    if case.noticed_at is not None:
        raise ValidationError(
            _("The written notice was already recorded on %(time)s.")
            % {"time": timezone.localtime(case.noticed_at).strftime("%Y-%m-%d %H:%M")}
        )
    note = _text(note)
    if not note:
        raise ValidationError({"note": _("Say how the notice was sent, e.g. its number.")})
    now = timezone.now()
    case.noticed_at = now
    _save(case)
    _event(
        case,
        actor,
        EventKind.NOTICE_SENT,
        case.status,
        note=note,
        data={"due": case.notice_due.isoformat(), "late": now > case.notice_due},
    )
    return case


@transaction.atomic
def do_add_note(actor, case, *, note: str, visibility: str = Visibility.INTERNAL) -> CaseEvent:
    """Add a note to the timeline. A note for the customer counts as the first response and the reply."""
    case = _lock_case(actor, case, None)
    _require(actor, "note", case)
    note = _text(note)
    if not note:
        raise ValidationError({"note": _("Write a note.")})
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who may see the note.")})
    if visibility == Visibility.CUSTOMER:
        now = timezone.now()
        _responded(case, now)
        case.replied_at = case.replied_at or now
        case.save(update_fields=["responded_at", "replied_at", "updated_at"])
    return _event(case, actor, EventKind.NOTE, case.status, note=note, visibility=visibility)


@transaction.atomic
def do_add_customer_note(case, *, note: str, source: str, data: dict[str, Any] | None = None) -> CaseEvent:
    """Add what the customer writes (e.g. in the owner portal) to the timeline, visible to the customer.

    There is no staff actor: the caller has already checked that this customer may write on this
    case. Unlike a staff note for the customer, it is neither a response nor a reply, so no clock moves.
    """
    try:
        case = Case.objects.select_for_update(of=("self",)).get(pk=getattr(case, "pk", case))
    except Case.DoesNotExist:
        raise PermissionDenied(_("This request does not exist or is outside your scope.")) from None
    note = _text(note)
    if not note:
        raise ValidationError({"note": _("Write a note.")})
    return _event(
        case,
        None,
        EventKind.NOTE,
        case.status,
        note=note,
        visibility=Visibility.CUSTOMER,
        data={**(data or {}), "from_customer": True, "source": source},
    )


@transaction.atomic
def do_add_attachment(actor, case, *, file, name: str = "", task: CaseTask | None = None) -> Attachment:
    case = _lock_case(actor, case, None)
    _require(actor, "note", case)
    if task is not None and task.case_id != case.pk:
        raise ValidationError({"task": _("This task belongs to another request.")})
    # Whatever the uploader called the file, it is stored and shown under a plain, short name.
    file.name = safe_file_name(getattr(file, "name", ""), default="attachment")
    attachment = Attachment.objects.create(
        case=case, task=task, file=file, name=safe_file_name(name or file.name, default=file.name), uploaded_by=actor
    )
    _event(case, actor, EventKind.ATTACHMENT, case.status, data={"attachment": attachment.pk})
    return attachment


@transaction.atomic
def do_merge_cases(actor, duplicate, *, into, expected_version: int | None, note: str = "") -> Case:
    """Close `duplicate` as merged into `into` (same project).

    Its units join `into` and its open tasks are cancelled.
    """
    if getattr(duplicate, "pk", duplicate) == getattr(into, "pk", into):
        raise ValidationError({"into": _("A request cannot be merged into itself.")})
    # Lock both rows in id order so that two opposite merges cannot deadlock.
    first, second = sorted([getattr(duplicate, "pk", duplicate), getattr(into, "pk", into)])
    locked = {first: _lock_case(actor, first, None), second: _lock_case(actor, second, None)}
    duplicate, into = locked[getattr(duplicate, "pk", duplicate)], locked[getattr(into, "pk", into)]
    if expected_version is not None and duplicate.version != expected_version:
        raise CaseConflict(duplicate.version, expected_version)
    _require(actor, "merge", duplicate)
    _check_from(duplicate, "merge")
    if into.status not in ALLOWED_FROM["merge"] or into.merged_into_id or into.project_id != duplicate.project_id:
        raise ValidationError({"into": _("Choose an open request of the same project.")})
    now = timezone.now()
    cancelled = list(_unfinished_tasks(duplicate).values_list("pk", flat=True))
    CaseTask.objects.filter(pk__in=cancelled).update(
        status=TaskStatus.CANCELLED, version=F("version") + 1, updated_at=now
    )
    before = duplicate.status
    duplicate.status = S.CLOSED
    duplicate.merged_into = into
    duplicate.closed_at = now
    duplicate.paused_since = None
    # A merged duplicate is not judged against the agreement; the surviving case is.
    duplicate.sla_state = SlaState.NONE
    _save(duplicate)
    _event(
        duplicate,
        actor,
        EventKind.MERGED,
        before,
        note=_text(note),
        data={"into": into.pk, "number": into.number, "cancelled_tasks": cancelled},
    )
    into.units.add(*duplicate.units.all(), through_defaults={"received_at": into.received_at})
    _save(into)
    refresh_search_text(into)
    _event(into, actor, EventKind.MERGE_RECEIVED, into.status, data={"from": duplicate.pk, "number": duplicate.number})
    return into


@transaction.atomic
def do_change_case_owner(actor, case, *, expected_version: int | None, new_owner, reason: str) -> Case:
    """Hand first-contact responsibility to someone else: only supervisors, always with a reason and an event."""
    case = _lock_case(actor, case, expected_version)
    _require(actor, "change_owner", case)
    reason = _text(reason)
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the owner changes.")
    if not new_owner.is_active or not covers_project(new_owner, case.project_id):
        errors["new_owner"] = _("This person cannot see the request's project.")
    if errors:
        raise ValidationError(errors)
    previous = case.owner_id
    case.owner = new_owner
    _save(case)
    _event(case, actor, EventKind.OWNER_CHANGED, case.status, note=reason, data={"from": previous, "to": new_owner.pk})
    return case


# ------------------------------------------------------------------------------------------------ tasks


@transaction.atomic
def do_split_case(actor, case, *, expected_version: int | None, parts: Sequence[dict]) -> list[CaseTask]:
    """Decompose the case into tasks, one per department or person, each with its own deadline.

    `parts` are dicts with `title`, `department` and/or `assignee`, and optionally `due` (default: the
    policy's internal reply time in working days). A recorded case becomes dispatched.
    """
    case = _lock_case(actor, case, expected_version)
    _require(actor, "split", case)
    _check_from(case, "split")
    if not parts:
        raise ValidationError({"title": _("Add at least one task.")})
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    for n, part in enumerate(parts, start=1):
        prefix = _("Task %(n)s: ") % {"n": n}
        if not _text(part.get("title")):
            errors.setdefault("title", []).append(prefix + _("Enter a title."))
        department, assignee = part.get("department"), part.get("assignee")
        if department is None and assignee is None:
            errors.setdefault("department", []).append(prefix + _("Choose a department or a person."))
        for field, message in _staff_errors(case.project, department=department, assignee=assignee).items():
            errors.setdefault(field, []).append(prefix + message)
        due = part.get("due")
        if due is not None and (timezone.is_naive(due) or due <= now):
            errors.setdefault("due", []).append(prefix + _("Enter a time in the future."))
    if errors:
        raise ValidationError(errors)
    created = [
        CaseTask.objects.create(
            case=case,
            title=_text(part["title"]),
            department=part.get("department"),
            assignee=part.get("assignee"),
            due=part.get("due") or task_due(case, now),
            created_by=actor,
        )
        for part in parts
    ]
    before = case.status
    if case.status in (S.RECORDED, S.REOPENED):
        case.status = S.DISPATCHED
    elif case.status == S.AWAITING_ACCEPTANCE:
        case.status = S.IN_PROGRESS
        case.resolved_at = None
    _responded(case, now)
    _save(case)
    _event(case, actor, EventKind.SPLIT, before, data={"tasks": [t.pk for t in created]})
    refresh_search_text(case)
    return created


def _task_event(
    case: Case, actor, kind: str, task: CaseTask, task_before: str, case_before: str, *, settle=False, **extra
) -> None:
    """Save the task, move the case along if `settle`, save the case, and write the event."""
    task.version += 1
    task.save()
    if settle:
        _after_task_change(case, timezone.now())
    if case.status != case_before:
        _save(case)
    else:
        case.save(update_fields=["responded_at", "plan_confirmed_at", "resolved_at", "updated_at"])
    data = {"task": task.pk, "task_from": task_before, "task_to": task.status, **extra.pop("data", {})}
    _event(case, actor, kind, case_before, data=data, **extra)


def _all_work_done(case: Case) -> bool:
    statuses = set(case.tasks.exclude(status=TaskStatus.CANCELLED).values_list("status", flat=True))
    return bool(statuses) and statuses <= WORK_DONE_TASK_STATUSES


def _after_task_change(case: Case, now: datetime) -> None:
    """Move the case along with its tasks: all work done → awaiting acceptance; work rejected → back."""
    if case.status in (S.DISPATCHED, S.IN_PROGRESS) and _all_work_done(case):
        _to_awaiting_acceptance(case, now)
    elif case.status == S.AWAITING_ACCEPTANCE and not _all_work_done(case):
        case.status = S.IN_PROGRESS
        case.resolved_at = None


@transaction.atomic
def do_propose_plan(actor, task, *, expected_version: int | None, plan: str) -> CaseTask:
    case, task = _lock_task(actor, task, expected_version)
    _require(actor, "propose_plan", case, task)
    if task.status not in (TaskStatus.OPEN, TaskStatus.REJECTED):
        raise CaseTransitionError(task.status, "propose_plan", task=True)
    plan = _text(plan)
    if not plan:
        raise ValidationError({"plan": _("Describe the plan.")})
    now = timezone.now()
    before, case_before = task.status, case.status
    task.plan, task.status, task.plan_proposed_at, task.plan_confirmed_at = plan, TaskStatus.PLAN_PROPOSED, now, None
    if case.status == S.DISPATCHED:
        case.status = S.IN_PROGRESS
    _responded(case, now)
    _task_event(case, actor, EventKind.TASK_PLAN_PROPOSED, task, before, case_before, note=plan)
    return task


@transaction.atomic
def do_confirm_plan(actor, task, *, expected_version: int | None, note: str = "") -> CaseTask:
    case, task = _lock_task(actor, task, expected_version)
    _require(actor, "confirm_plan", case, task)
    if task.status != TaskStatus.PLAN_PROPOSED:
        raise CaseTransitionError(task.status, "confirm_plan", task=True)
    now = timezone.now()
    before, case_before = task.status, case.status
    task.status, task.plan_confirmed_at, task.plan_confirmed_by = TaskStatus.PLAN_CONFIRMED, now, actor
    case.plan_confirmed_at = case.plan_confirmed_at or now
    _task_event(case, actor, EventKind.TASK_PLAN_CONFIRMED, task, before, case_before, note=_text(note))
    return task


@transaction.atomic
def do_complete_task(actor, task, *, expected_version: int | None, report: str) -> CaseTask:
    """The department reports its work done; when every task is done the case awaits acceptance."""
    case, task = _lock_task(actor, task, expected_version)
    _require(actor, "complete_task", case, task)
    reworking = task.status == TaskStatus.REJECTED and task.plan_confirmed_at is not None
    if task.status != TaskStatus.PLAN_CONFIRMED and not reworking:
        raise CaseTransitionError(task.status, "complete_task", task=True)
    report = _text(report)
    if not report:
        raise ValidationError({"report": _("Report what was done.")})
    now = timezone.now()
    before, case_before = task.status, case.status
    task.status, task.report, task.completed_at, task.completed_by = TaskStatus.DONE, report, now, actor
    _task_event(case, actor, EventKind.TASK_COMPLETED, task, before, case_before, settle=True, note=report)
    return task


@transaction.atomic
def do_accept_task(actor, task, *, expected_version: int | None, acceptance: str | None = None) -> CaseTask:
    """Accept a finished task. Repair tasks need `acceptance` "engineering" and "cost", each signed once."""
    case, task = _lock_task(actor, task, expected_version)
    if task.status != TaskStatus.DONE:
        raise CaseTransitionError(task.status, "accept_task", task=True)
    now = timezone.now()
    before, case_before = task.status, case.status
    if case.case_type == CaseType.REPAIR:
        if acceptance not in Acceptance.values:
            raise ValidationError({"acceptance": _("Choose engineering or cost acceptance.")})
        if not may_accept_as(actor, acceptance):
            raise PermissionDenied(_("You may not do this."))
        if getattr(task, f"{acceptance}_accepted_at") is not None:
            raise ValidationError({"acceptance": _("This acceptance has already been signed.")})
        setattr(task, f"{acceptance}_accepted_at", now)
        setattr(task, f"{acceptance}_accepted_by", actor)
        if task.engineering_accepted_at and task.cost_accepted_at:
            task.status, task.accepted_at, task.accepted_by = TaskStatus.ACCEPTED, now, actor
    else:
        _require(actor, "accept_task", case, task)
        task.status, task.accepted_at, task.accepted_by = TaskStatus.ACCEPTED, now, actor
    _task_event(case, actor, EventKind.TASK_ACCEPTED, task, before, case_before, data={"acceptance": acceptance})
    return task


@transaction.atomic
def do_reject_task(actor, task, *, expected_version: int | None, reason: str) -> CaseTask:
    """Send a proposed plan or finished work back to the department, with the reason."""
    case, task = _lock_task(actor, task, expected_version)
    if task.status == TaskStatus.PLAN_PROPOSED:
        _require(actor, "confirm_plan", case, task)
    elif task.status == TaskStatus.DONE:
        if case.case_type == CaseType.REPAIR:
            if not (may_accept_as(actor, Acceptance.ENGINEERING) or may_accept_as(actor, Acceptance.COST)):
                raise PermissionDenied(_("You may not do this."))
        else:
            _require(actor, "accept_task", case, task)
    else:
        raise CaseTransitionError(task.status, "reject_task", task=True)
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": _("Say what is wrong.")})
    before, case_before = task.status, case.status
    task.status, task.rejection_note = TaskStatus.REJECTED, reason
    task.engineering_accepted_at = task.engineering_accepted_by = None
    task.cost_accepted_at = task.cost_accepted_by = None
    _task_event(case, actor, EventKind.TASK_REJECTED, task, before, case_before, settle=True, note=reason)
    return task


@transaction.atomic
def do_cancel_task(actor, task, *, expected_version: int | None, reason: str) -> CaseTask:
    case, task = _lock_task(actor, task, expected_version)
    _require(actor, "cancel_task", case, task)
    if task.status not in UNFINISHED_TASK_STATUSES:
        raise CaseTransitionError(task.status, "cancel_task", task=True)
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why the task is cancelled.")})
    before, case_before = task.status, case.status
    task.status = TaskStatus.CANCELLED
    _task_event(case, actor, EventKind.TASK_CANCELLED, task, before, case_before, settle=True, note=reason)
    return task
