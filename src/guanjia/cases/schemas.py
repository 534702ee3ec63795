"""API schemas of service requests: what the API shows and what it accepts.

Input names follow the models (a related object by its id), except `type` for the case's
`case_type`, so that the services' field-keyed errors name the fields the client sent.
"""

from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from ninja import Field, Schema

from guanjia.core.schemas import FilterInput, InputSchema
from guanjia.estate.identity import mask_phone
from guanjia.org.permissions import can

from .choices import (
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

CASE_ACTIONS = (
    "dispatch",
    "start",
    "submit_for_acceptance",
    "close",
    "suspend",
    "resume",
    "reopen",
    "archive",
    "note",
    "change_owner",
    "merge",
    "notice",
)
TASK_ACTIONS = ("propose_plan", "confirm_plan", "complete", "accept", "reject", "cancel")

CaseAction = Literal[
    "dispatch",
    "start",
    "submit_for_acceptance",
    "close",
    "suspend",
    "resume",
    "reopen",
    "archive",
    "note",
    "change_owner",
    "merge",
    "notice",
]
TaskAction = Literal["propose_plan", "confirm_plan", "complete", "accept", "reject", "cancel"]


def _user(context):
    request = (context or {}).get("request")
    return getattr(request, "user", None)


def _name(staff) -> str | None:
    return str(staff) if staff is not None else None


# --- requests ----------------------------------------------------------------------------


class CaseOut(Schema):
    """A request as lists show it."""

    id: int
    number: str = Field(..., examples=["TS-20251103-0001"])
    type: CaseType = Field(..., alias="case_type")
    channel: Channel
    category_id: int | None
    category_name: str | None
    severity: Severity
    status: CaseStatus
    version: int = Field(..., description="Send it back with every transition; a stale one is refused with 409.")
    project_id: int
    project_name: str = Field(..., alias="project.name")
    party_id: int | None
    customer_name: str
    caller_phone: str = Field(..., description="Masked (138****5678) unless the role may see whole numbers.")
    description: str
    received_at: datetime
    owner_id: int = Field(..., description="The first-contact owner (首问负责人).")
    owner_name: str
    department_id: int | None
    department_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    sla_state: SlaState
    response_due: datetime | None
    resolution_due: datetime | None
    overdue: bool = Field(..., description="Open and past its resolution deadline.")
    risk_major: bool
    risk_group: bool
    risk_media: bool
    risk_government: bool
    reopened_count: int

    @staticmethod
    def resolve_category_name(obj) -> str | None:
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_caller_phone(obj, context) -> str:
        phone = obj.caller_phone
        return phone if can(_user(context), "phone", "view_full") else mask_phone(phone)

    @staticmethod
    def resolve_owner_name(obj) -> str:
        return str(obj.owner)

    @staticmethod
    def resolve_department_name(obj) -> str | None:
        return obj.department.name if obj.department_id else None

    @staticmethod
    def resolve_assignee_name(obj) -> str | None:
        return _name(obj.assignee) if obj.assignee_id else None

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return bool(obj.is_open and obj.resolution_due and obj.resolution_due < timezone.now())


class UnitRef(Schema):
    id: int
    label: str = Field(..., examples=["3栋2单元1502"])


class Clock(Schema):
    """One SLA deadline: when it is due, when it was met, and where it stands."""

    name: Literal["response", "plan", "resolution", "reply", "notice"]
    due: datetime
    done_at: datetime | None
    state: Literal["running", "paused", "overdue", "met", "breached", "stopped"]


class TaskOut(Schema):
    id: int
    case_id: int
    title: str
    status: TaskStatus
    version: int
    department_id: int | None
    department_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    due: datetime | None
    plan: str
    plan_proposed_at: datetime | None
    plan_confirmed_at: datetime | None
    report: str
    completed_at: datetime | None
    engineering_accepted_at: datetime | None
    cost_accepted_at: datetime | None
    accepted_at: datetime | None
    rejection_note: str
    allowed_actions: list[str] = Field(..., description="Task transitions the requesting user may make now.")

    @staticmethod
    def resolve_department_name(obj) -> str | None:
        return obj.department.name if obj.department_id else None

    @staticmethod
    def resolve_assignee_name(obj) -> str | None:
        return _name(obj.assignee) if obj.assignee_id else None

    @staticmethod
    def resolve_allowed_actions(obj, context) -> list[str]:
        from .queries import allowed_task_actions

        return allowed_task_actions(_user(context), obj.case, obj)


class FollowUpBrief(Schema):
    id: int
    due: datetime
    attempts: int
    outcome: FollowUpOutcome | Literal[""]
    note: str
    done_at: datetime | None


class CaseDetailOut(CaseOut):
    """A request with its units, every deadline, its tasks and follow-ups, and what the user may do now."""

    caller_name: str
    units: list[UnitRef]
    category_path: str | None
    repeat_of_id: int | None
    merged_into_id: int | None
    plan_due: datetime | None
    reply_due: datetime | None
    notice_due: datetime | None
    noticed_at: datetime | None = Field(
        ..., description="When the written notice to the property company was recorded."
    )
    responded_at: datetime | None
    plan_confirmed_at: datetime | None
    replied_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    paused_since: datetime | None
    total_paused_seconds: int = Field(..., description="Working time spent suspended, in seconds.")
    clocks: list[Clock]
    tasks: list[TaskOut]
    follow_ups: list[FollowUpBrief]
    allowed_actions: list[str] = Field(
        ..., description="Transitions the requesting user may make now (the `action` of POST …/transitions)."
    )

    @staticmethod
    def resolve_units(obj) -> list:
        if getattr(obj, "api_units", None) is not None:
            return sorted(obj.api_units, key=lambda u: u.pk)
        return list(obj.units.select_related("building", "entrance").order_by("pk"))

    @staticmethod
    def resolve_category_path(obj) -> str | None:
        return obj.category.path if obj.category_id else None

    @staticmethod
    def resolve_total_paused_seconds(obj) -> int:
        return int(obj.total_paused.total_seconds())

    @staticmethod
    def resolve_clocks(obj) -> list[dict]:
        return sla_clocks(obj)

    @staticmethod
    def resolve_tasks(obj) -> list:
        return list(obj.api_tasks)

    @staticmethod
    def resolve_follow_ups(obj) -> list:
        if getattr(obj, "api_follow_ups", None) is not None:
            return obj.api_follow_ups
        return list(obj.follow_ups.all())

    @staticmethod
    def resolve_allowed_actions(obj, context) -> list[str]:
        from .queries import allowed_actions

        return allowed_actions(_user(context), obj)


def sla_clocks(case, now: datetime | None = None) -> list[dict]:
    """Each stored deadline with its state; a clock still running on a request that is done has stopped."""
    now = now or timezone.now()
    pairs = [
        ("response", case.response_due, case.responded_at),
        ("plan", case.plan_due, case.plan_confirmed_at),
        ("resolution", case.resolution_due, case.resolved_at),
        ("reply", case.reply_due, case.replied_at),
        ("notice", case.notice_due, case.noticed_at),
    ]
    clocks = []
    for name, due, done_at in pairs:
        if due is None:
            continue
        if done_at is not None:
            state = "met" if done_at <= due else "breached"
        elif case.paused_since is not None:
            state = "paused"
        elif not case.is_open:
            state = "stopped"
        else:
            state = "overdue" if due < now else "running"
        clocks.append({"name": name, "due": due, "done_at": done_at, "state": state})
    return clocks


class CaseIn(InputSchema):
    type: CaseType = Field(..., description="complaint, repair, inquiry, suggestion, praise or help.")
    channel: Channel
    project: int = Field(..., description="Project id.")
    category: int | None = Field(None, description="Category id (an active node of the category tree).")
    severity: Severity = Severity.NORMAL
    units: list[int] = Field([], description="Unit ids, of the request's project.")
    party: int | None = Field(None, description="Customer (party) id; or give caller_name and/or caller_phone.")
    caller_name: str = Field("", max_length=50, examples=["张伟"])
    caller_phone: str = Field("", max_length=20, examples=["13812345678"])
    description: str = Field(..., min_length=1, max_length=5000, examples=["卫生间漏水，楼下天花板渗水"])
    received_at: datetime | None = Field(None, description="When the request came in; defaults to now.")
    risk_major: bool = False
    risk_group: bool = False
    risk_media: bool = False
    risk_government: bool = False


class CaseFilters(FilterInput):
    project: int | None = Field(None, description="Project id.")
    type: CaseType | None = None
    category: int | None = Field(None, description="Category id; its descendants match too.")
    status: CaseStatus | None = None
    department: int | None = Field(None, description="Department id.")
    assignee: int | None = Field(None, description="Staff id of the assignee.")
    owner: int | None = Field(None, description="Staff id of the first-contact owner.")
    channel: Channel | None = None
    severity: Severity | None = None
    created_after: datetime | None = Field(
        None, description="Received at or after; a date alone means its midnight (Beijing).", examples=["2025-11-01"]
    )
    created_before: datetime | None = Field(None, description="Received before; a date alone: before that day.")
    overdue: bool | None = Field(None, description="true: open and past the resolution deadline.")
    due_today: bool | None = Field(None, description="true: open, resolution deadline later today.")
    unassigned: bool | None = Field(
        None, description="true: open or suspended, not yet dispatched to a department or a person."
    )
    awaiting_follow_up: bool | None = Field(None, description="true: closed with the follow-up call pending.")
    major: bool | None = Field(
        None, description="true: open or suspended requests with a risk flag (major, group, media, government)."
    )
    q: str | None = Field(None, max_length=100, description="Full text: description, notes, replies, task reports.")


class CaseTransitionIn(InputSchema):
    action: CaseAction
    version: int | None = Field(
        None, ge=1, description="The version the client last read; required for every action but `note`."
    )
    department: int | None = Field(None, description="dispatch: department id.")
    assignee: int | None = Field(None, description="dispatch: staff id.")
    note: str | None = Field(
        None,
        max_length=5000,
        description="dispatch, start, submit, close, resume, merge, note; notice: how it was sent.",
    )
    reason: str | None = Field(None, max_length=2000, description="close (over open tasks), suspend, reopen, owner.")
    visibility: Visibility | None = Field(None, description="close, note: internal or visible to the customer.")
    new_owner: int | None = Field(None, description="change_owner: staff id of the new first-contact owner.")
    into: int | None = Field(None, description="merge: id of the request this duplicate is merged into.")


# Which optional fields each case action reads; others are refused so a misplaced field shows.
CASE_ACTION_FIELDS: dict[str, frozenset[str]] = {
    "dispatch": frozenset({"department", "assignee", "note"}),
    "start": frozenset({"note"}),
    "submit_for_acceptance": frozenset({"note"}),
    "close": frozenset({"note", "reason", "visibility"}),
    "suspend": frozenset({"reason"}),
    "resume": frozenset({"note"}),
    "reopen": frozenset({"reason"}),
    "archive": frozenset(),
    "note": frozenset({"note", "visibility"}),
    "change_owner": frozenset({"new_owner", "reason"}),
    "merge": frozenset({"into", "note"}),
    "notice": frozenset({"note"}),
}


class EventOut(Schema):
    id: int
    seq: int
    time: datetime
    kind: EventKind
    actor_id: int | None
    actor_name: str | None
    from_status: CaseStatus | Literal[""]
    to_status: CaseStatus | Literal[""]
    visibility: Visibility
    note: str
    data: dict

    @staticmethod
    def resolve_actor_name(obj) -> str | None:
        return _name(obj.actor) if obj.actor_id else None


# --- tasks -------------------------------------------------------------------------------


class TaskPartIn(InputSchema):
    title: str = Field(..., min_length=1, max_length=200, examples=["更换卫生间防水层"])
    department: int | None = Field(None, description="Department id.")
    assignee: int | None = Field(None, description="Staff id.")
    due: datetime | None = Field(None, description="Defaults to the policy's internal reply time.")


class SplitIn(InputSchema):
    version: int = Field(..., ge=1, description="The request's version.")
    tasks: list[TaskPartIn] = Field(..., min_length=1)


class TaskTransitionIn(InputSchema):
    action: TaskAction
    version: int = Field(..., ge=1, description="The task's version.")
    plan: str | None = Field(None, max_length=5000, description="propose_plan.")
    note: str | None = Field(None, max_length=5000, description="confirm_plan.")
    report: str | None = Field(None, max_length=5000, description="complete: what was done.")
    acceptance: Acceptance | None = Field(None, description="accept, repairs only: engineering or cost.")
    reason: str | None = Field(None, max_length=2000, description="reject, cancel.")


TASK_ACTION_FIELDS: dict[str, frozenset[str]] = {
    "propose_plan": frozenset({"plan"}),
    "confirm_plan": frozenset({"note"}),
    "complete": frozenset({"report"}),
    "accept": frozenset({"acceptance"}),
    "reject": frozenset({"reason"}),
    "cancel": frozenset({"reason"}),
}


# --- follow-ups --------------------------------------------------------------------------


class FollowUpOut(FollowUpBrief):
    case_id: int
    case_number: str = Field(..., alias="case.number")
    case_status: CaseStatus = Field(..., alias="case.status")
    case_version: int = Field(..., alias="case.version", description="Send it back with the outcome.")
    project_id: int = Field(..., alias="case.project_id")
    customer_name: str = Field(..., alias="case.customer_name")
    caller_phone: str = Field(..., description="Masked unless the role may see whole numbers.")
    agent_id: int | None
    agent_name: str | None

    @staticmethod
    def resolve_caller_phone(obj, context) -> str:
        phone = obj.case.party.phone if obj.case.party_id else obj.case.caller_phone
        return phone if can(_user(context), "phone", "view_full") else mask_phone(phone)

    @staticmethod
    def resolve_agent_name(obj) -> str | None:
        return _name(obj.agent) if obj.agent_id else None


class FollowUpFilters(FilterInput):
    project: int | None = Field(None, description="Project id.")
    due: date | None = Field(None, description="Due on this day (Beijing time).")
    overdue: bool | None = Field(None, description="true: pending and past due.")
    pending: bool | None = Field(None, description="true: not yet recorded; false: recorded.")


class FollowUpOutcomeIn(InputSchema):
    outcome: FollowUpOutcome
    version: int = Field(..., ge=1, description="The request's version (`case_version`).")
    note: str = Field("", max_length=2000)
    then: DissatisfiedAction | None = Field(
        None,
        description="dissatisfied only: reopen (default) hands the request back; escalate also flags it as a major "
        "complaint and tells the project's team leads and managers.",
    )
