"""REST API of service requests: intake, lists, the case page, transitions, tasks and follow-ups.

Handlers are thin: they read through `queries` (scoped; anything outside the user's scope is
404), turn ids in the body into objects the user may see (422 naming the field otherwise), and
write through `services`, which check role, status and version. Two refusals of the services
get their own problem types, both 409: a stale `version` (someone else changed the record) and
a transition the current status does not allow.
"""

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from functools import wraps

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status
from ninja.pagination import paginate

from guanjia.core.compiled import CompiledQuery
from guanjia.core.errors import field_errors
from guanjia.core.schemas import LinkedLimitOffset, Problem
from guanjia.estate.identity import normalize_phone
from guanjia.estate.models import Party, Unit
from guanjia.estate.queries import sees_party, sees_unit
from guanjia.org.models import Department, Project
from guanjia.org.scope import sees_project

from . import config, services
from .choices import Severity
from .config import descendant_ids
from .errors import CaseConflict, CaseTransitionError
from .models import Case
from .queries import (
    access_case_by_id,
    access_follow_up_by_id,
    access_workable_task_by_id,
    assignable_staff,
    cases_for,
    events_of,
    follow_ups_for,
    workable_tasks_for,
)
from .schemas import (
    CASE_ACTION_FIELDS,
    TASK_ACTION_FIELDS,
    CaseDetailOut,
    CaseFilters,
    CaseIn,
    CaseOut,
    CaseTransitionIn,
    EventOut,
    FollowUpFilters,
    FollowUpOut,
    FollowUpOutcomeIn,
    SplitIn,
    TaskOut,
    TaskTransitionIn,
)
from .search import SEARCH_ORDER, search_cases

router = Router()

PROBLEM_STALE_VERSION = "urn:guanjia:problem:stale-version"
PROBLEM_INVALID_TRANSITION = "urn:guanjia:problem:invalid-transition"
PROBLEM_IDEMPOTENCY_KEY_REUSED = "urn:guanjia:problem:idempotency-key-reused"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 64
_KEY_HELP = "Any unique text (at most 64 characters) that makes retries of this intake safe."

_LIST_ERRORS = {401: Problem, 422: Problem}
_READ_ERRORS = {401: Problem, 404: Problem}
_WRITE_ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


# --- errors ------------------------------------------------------------------------------


def _problem(request, status: int, detail: str, **kwargs):
    # Imported late: core.api imports this module while it registers the routers.
    from guanjia.core.api import problem

    return problem(request, status, detail, **kwargs)


def _service_refusals(renames: dict[str, str] | None = None) -> Callable:
    """Answer a stale version or a disallowed transition with 409, and name the API's fields in errors."""
    renames = renames or {}

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except CaseConflict as exc:
                return _problem(
                    request,
                    409,
                    str(exc),
                    errors=[{"field": "version", "message": str(exc)}],
                    type_=PROBLEM_STALE_VERSION,
                )
            except CaseTransitionError as exc:
                return _problem(request, 409, exc.messages[0], type_=PROBLEM_INVALID_TRANSITION)
            except ValidationError as exc:
                if not renames or not hasattr(exc, "error_dict"):
                    raise
                renamed: dict[str, list[str]] = {}
                for field, messages in field_errors(exc).items():
                    renamed.setdefault(renames.get(field, field), []).extend(messages)
                raise ValidationError(renamed) from exc

        return wrapped

    return decorate


class _Resolver:
    """Turns the ids of a request body into objects inside the user's scope, all bad fields at once."""

    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def one(self, field: str, value, source, message: str, visible: Callable | None = None):
        """The object with id `value` of `source` (a queryset, or a CompiledQuery taking `pk`);
        `visible`, when given, must also hold for it."""
        if value is None:
            return None
        if isinstance(source, CompiledQuery):
            found = source.first(pk=value)
        else:
            try:
                # get() leaves out the model's default ORDER BY, which a lookup by id does not need.
                found = source.get(pk=value)
            except source.model.DoesNotExist:
                found = None
        if found is None or (visible is not None and not visible(found)):
            self.errors.setdefault(field, []).append(message)
            return None
        return found

    def check(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _department_queryset():
    # Departments are not personal data; the services check that one serves the request's project.
    return Department.objects.all()


# --- requests ----------------------------------------------------------------------------


def _detail(request, case: Case) -> Case:
    """Attach what the case page shows besides the row itself."""
    case.api_tasks = workable_tasks_for(request.user).filter(case_id=case.pk).order_by("id")
    return case


def _read(request, case_id: int) -> Case:
    return _detail(request, access_case_by_id(request.user, case_id))


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@router.get("/cases", response={200: list[CaseOut], **_LIST_ERRORS}, tags=["cases"], summary="List requests")
@paginate(LinkedLimitOffset)
def list_cases(request, filters: Query[CaseFilters]):
    """Requests in the user's scope, newest first. Saved views are the boolean filters (only `true` filters).

    `overdue` and `due_today` list by resolution deadline, the most pressing first, as the workbench does;
    a search (`q`) lists the best matches first.
    """
    cases = cases_for(request.user)
    for field, lookup in (
        ("project", "project_id"),
        ("department", "department_id"),
        ("assignee", "assignee_id"),
        ("owner", "owner_id"),
        ("type", "case_type"),
        ("status", "status"),
        ("channel", "channel"),
        ("severity", "severity"),
    ):
        value = getattr(filters, field)
        if value is not None:
            cases = cases.filter(**{lookup: value})
    if filters.category is not None:
        cases = cases.filter(category_id__in=descendant_ids(filters.category))
    if filters.created_after is not None:
        cases = cases.filter(received_at__gte=_aware(filters.created_after))
    if filters.created_before is not None:
        cases = cases.filter(received_at__lt=_aware(filters.created_before))
    now = timezone.now()
    if filters.overdue:
        cases = cases.overdue(now)
    if filters.due_today:
        tomorrow = timezone.make_aware(datetime.combine(timezone.localdate(now) + timedelta(days=1), time.min))
        cases = cases.open().filter(resolution_due__gte=now, resolution_due__lt=tomorrow)
    if filters.unassigned:
        cases = cases.unassigned()
    if filters.awaiting_follow_up:
        cases = cases.awaiting_follow_up()
    if filters.major:
        cases = cases.at_risk()
    q = (filters.q or "").strip()
    if q:
        return search_cases(cases, q).order_by(*SEARCH_ORDER)
    if filters.overdue or filters.due_today:
        return cases.order_by("resolution_due", "id")
    return cases.order_by("-received_at", "-id")


def _same_intake(case: Case, payload: CaseIn) -> bool:
    """Whether a repeated intake carries the request already recorded under its key.

    Compared as the service stores it (trimmed text, normalised phone). Risk flags may have been
    raised since by escalation, so only a flag the client sets must be set on the case.
    """
    try:
        phone = normalize_phone(payload.caller_phone)
    except ValidationError:
        return False
    flags = ("risk_major", "risk_group", "risk_media", "risk_government")
    major = payload.risk_major or payload.severity == Severity.MAJOR
    wanted = {"risk_major": major, **{f: getattr(payload, f) for f in flags[1:]}}
    return (
        case.case_type == payload.type
        and case.channel == payload.channel
        and case.project_id == payload.project
        and case.category_id == payload.category
        and case.severity == payload.severity
        and case.party_id == payload.party
        and case.caller_name == payload.caller_name.strip()
        and case.caller_phone == phone
        and case.description == payload.description.strip()
        and (payload.received_at is None or case.received_at == _aware(payload.received_at))
        and all(getattr(case, f) for f in flags if wanted[f])
        and set(case.units.values_list("pk", flat=True)) == set(payload.units)
    )


def _key_reused(request):
    message = _("This Idempotency-Key was already used for a different request.")
    return _problem(
        request,
        422,
        message,
        errors=[{"field": IDEMPOTENCY_HEADER, "message": message}],
        type_=PROBLEM_IDEMPOTENCY_KEY_REUSED,
    )


# Intake reads these by id on every request: compiled once per process (see core.compiled).
_PROJECT_BY_ID = CompiledQuery(Project, lambda pk: Project.objects.select_related("company").filter(pk=pk))
_PARTY_BY_ID = CompiledQuery(Party, lambda pk: Party.objects.filter(pk=pk))
_UNITS_BY_ID = CompiledQuery(Unit, lambda ids: Unit.objects.select_related("building", "entrance").filter(pk__in=ids))


@router.post(
    "/cases",
    response={200: CaseDetailOut, 201: CaseDetailOut, **_WRITE_ERRORS},
    tags=["cases"],
    summary="Record a request",
)
@_service_refusals({"case_type": "type"})
def create_case(
    request,
    payload: CaseIn,
    idempotency_key: str | None = Header(None, alias=IDEMPOTENCY_HEADER, description=_KEY_HELP),
):
    """Record a request; the caller becomes its first-contact owner. Routing may dispatch it at once.

    Send an `Idempotency-Key` (any unique text, at most 64 characters) to retry safely: the same key
    from the same user answers 200 with the request recorded the first time and records nothing new;
    the same key with a different body is refused (422).
    """
    user = request.user
    key = (idempotency_key or "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            {IDEMPOTENCY_HEADER: _("Enter at most %(count)s characters.") % {"count": MAX_KEY_LENGTH}}
        )
    resolver = _Resolver()
    # Intake is the hottest write: each id is read by its key and then tested against the scope kept on
    # the user (`sees_*`, no query), instead of through the scoped querysets, whose filters cost more to
    # build than the look-up itself. Out of scope answers exactly like "does not exist".
    project = resolver.one(
        "project",
        payload.project,
        _PROJECT_BY_ID,
        _("No such project in your scope."),
        visible=lambda p: sees_project(user, p.pk),
    )
    # From the tree kept in memory, parents linked: the agreement, routing and repeat checks walk its lineage.
    category = config.category(payload.category)
    if payload.category is not None and category is None:
        resolver.errors["category"] = [_("No such category.")]
    party = resolver.one(
        "party",
        payload.party,
        _PARTY_BY_ID,
        _("No such customer in your scope."),
        visible=lambda p: sees_party(user, p),
    )
    found = _UNITS_BY_ID.all(ids=set(payload.units)) if payload.units else []
    units = [unit for unit in found if sees_unit(user, unit)]
    if len(units) != len(set(payload.units)):
        resolver.errors["units"] = [_("No such unit in your scope.")]
    resolver.check()
    case = services.do_record_case(
        user,
        project=project,
        case_type=payload.type,
        channel=payload.channel,
        description=payload.description,
        category=category,
        severity=payload.severity,
        units=units,
        party=party,
        caller_name=payload.caller_name,
        caller_phone=payload.caller_phone,
        received_at=_aware(payload.received_at) if payload.received_at else None,
        risk_major=payload.risk_major,
        risk_group=payload.risk_group,
        risk_media=payload.risk_media,
        risk_government=payload.risk_government,
        idempotency_key=key,
    )
    if not getattr(case, "recorded_now", False):
        # The key was used before (perhaps by a concurrent retry): answer with that request.
        if not _same_intake(case, payload):
            return _key_reused(request)
        return Status(200, _read(request, case.pk))
    # Everything the case page shows of a request recorded just now is in hand: no need to read it back.
    # Times as the database gives them back (UTC), so both answers print them alike.
    for field in case._meta.concrete_fields:
        value = getattr(case, field.attname)
        if isinstance(value, datetime) and value.tzinfo is not None:
            setattr(case, field.attname, value.astimezone(UTC))
    case.api_units = units
    case.api_follow_ups = []
    case.api_tasks = []
    return Status(201, case)


@router.get(
    "/cases/{int:case_id}", response={200: CaseDetailOut, **_READ_ERRORS}, tags=["cases"], summary="Get a request"
)
def get_case(request, case_id: int):
    """The case page: deadlines and their states, tasks, follow-ups and the actions the user may take now."""
    return _read(request, case_id)


@router.get(
    "/cases/{int:case_id}/events",
    response={200: list[EventOut], **_READ_ERRORS},
    tags=["cases"],
    summary="The timeline of a request",
)
@paginate(LinkedLimitOffset)
def list_case_events(request, case_id: int):
    """Every event, oldest first; `visibility` tells internal entries from those the customer sees."""
    return events_of(access_case_by_id(request.user, case_id))


def _check_fields(payload, allowed_by_action: dict[str, frozenset[str]], always: set[str]) -> None:
    sent = {name for name in payload.model_fields_set if getattr(payload, name) is not None} - always
    extra = sorted(sent - allowed_by_action[payload.action])
    if extra:
        message = _("This field is not accepted for this action.")
        raise ValidationError({field: [message] for field in extra})


@router.post(
    "/cases/{int:case_id}/transitions",
    response={200: CaseDetailOut, **_WRITE_ERRORS},
    tags=["cases"],
    summary="Move a request along its lifecycle",
)
@_service_refusals()
def transition_case(request, case_id: int, payload: CaseTransitionIn):
    """One action on the request: dispatch, start, submit_for_acceptance, close, suspend, resume, reopen,
    archive, note, change_owner, merge or notice (the written notice to the property company went out;
    `note` says how, e.g. its number), with the `version` last read (any but `note`).

    A stale version is 409 (`urn:guanjia:problem:stale-version`, field `version`); an action the current
    status does not allow is 409 (`urn:guanjia:problem:invalid-transition`); a role without the right, 403.
    """
    user = request.user
    case = access_case_by_id(user, case_id)
    _check_fields(payload, CASE_ACTION_FIELDS, {"action", "version"})
    action, version = payload.action, payload.version
    if version is None and action != "note":
        raise ValidationError({"version": _("This field is required.")})
    note, reason = payload.note or "", payload.reason or ""

    resolver = _Resolver()
    department = resolver.one("department", payload.department, _department_queryset(), _("No such department."))
    assignee = resolver.one("assignee", payload.assignee, assignable_staff(user), _("No such person in your scope."))
    new_owner = resolver.one("new_owner", payload.new_owner, assignable_staff(user), _("No such person in your scope."))
    into = resolver.one("into", payload.into, cases_for(user), _("No such request in your scope."))
    if action == "change_owner" and new_owner is None and "new_owner" not in resolver.errors:
        resolver.errors["new_owner"] = [_("This field is required.")]
    if action == "merge" and into is None and "into" not in resolver.errors:
        resolver.errors["into"] = [_("This field is required.")]
    resolver.check()

    kw = {"expected_version": version}
    if action == "dispatch":
        services.do_dispatch_case(user, case, department=department, assignee=assignee, note=note, **kw)
    elif action == "start":
        services.do_start_case(user, case, note=note, **kw)
    elif action == "submit_for_acceptance":
        services.do_submit_for_acceptance(user, case, note=note, **kw)
    elif action == "close":
        extra = {"visibility": payload.visibility} if payload.visibility else {}
        services.do_close_case(user, case, note=note, reason=reason, **extra, **kw)
    elif action == "suspend":
        services.do_suspend_case(user, case, reason=reason, **kw)
    elif action == "resume":
        services.do_resume_case(user, case, note=note, **kw)
    elif action == "reopen":
        services.do_reopen_case(user, case, reason=reason, **kw)
    elif action == "archive":
        services.do_archive_case(user, case, **kw)
    elif action == "note":
        extra = {"visibility": payload.visibility} if payload.visibility else {}
        services.do_add_note(user, case, note=note, **extra)
    elif action == "change_owner":
        services.do_change_case_owner(user, case, new_owner=new_owner, reason=reason, **kw)
    elif action == "merge":
        services.do_merge_cases(user, case, into=into, note=note, **kw)
    elif action == "notice":
        services.do_record_notice(user, case, note=note, **kw)
    return _read(request, case.pk)


# --- tasks -------------------------------------------------------------------------------


@router.get(
    "/cases/{int:case_id}/tasks",
    response={200: list[TaskOut], **_READ_ERRORS},
    tags=["tasks"],
    summary="Tasks of a request",
)
def list_case_tasks(request, case_id: int):
    """The request's tasks the user may see (a department handler: their own and those awaiting their acceptance)."""
    case = access_case_by_id(request.user, case_id)
    return workable_tasks_for(request.user).filter(case=case).order_by("id")


@router.post(
    "/cases/{int:case_id}/tasks",
    response={201: list[TaskOut], **_WRITE_ERRORS},
    tags=["tasks"],
    summary="Split a request into tasks",
)
@_service_refusals({"title": "tasks", "department": "tasks", "assignee": "tasks", "due": "tasks"})
def split_case(request, case_id: int, payload: SplitIn):
    """One task per responsible department or person (问题分解); `version` is the request's."""
    user = request.user
    case = access_case_by_id(user, case_id)
    resolver = _Resolver()
    parts = []
    for n, part in enumerate(payload.tasks):
        parts.append(
            {
                "title": part.title,
                "department": resolver.one(
                    f"tasks.{n}.department", part.department, _department_queryset(), _("No such department.")
                ),
                "assignee": resolver.one(
                    f"tasks.{n}.assignee", part.assignee, assignable_staff(user), _("No such person in your scope.")
                ),
                "due": _aware(part.due) if part.due else None,
            }
        )
    resolver.check()
    created = services.do_split_case(user, case, expected_version=payload.version, parts=parts)
    return Status(201, list(workable_tasks_for(user).filter(pk__in=[t.pk for t in created]).order_by("id")))


@router.get("/tasks/{int:task_id}", response={200: TaskOut, **_READ_ERRORS}, tags=["tasks"], summary="Get a task")
def get_task(request, task_id: int):
    return access_workable_task_by_id(request.user, task_id)


@router.post(
    "/tasks/{int:task_id}/transitions",
    response={200: TaskOut, **_WRITE_ERRORS},
    tags=["tasks"],
    summary="Move a task along",
)
@_service_refusals()
def transition_task(request, task_id: int, payload: TaskTransitionIn):
    """propose_plan (plan), confirm_plan (note), complete (report), accept (acceptance, for repairs:
    engineering or cost), reject (reason) or cancel (reason), with the task's `version`."""
    user = request.user
    task = access_workable_task_by_id(user, task_id)
    _check_fields(payload, TASK_ACTION_FIELDS, {"action", "version"})
    kw = {"expected_version": payload.version}
    action = payload.action
    if action == "propose_plan":
        task = services.do_propose_plan(user, task, plan=payload.plan or "", **kw)
    elif action == "confirm_plan":
        task = services.do_confirm_plan(user, task, note=payload.note or "", **kw)
    elif action == "complete":
        task = services.do_complete_task(user, task, report=payload.report or "", **kw)
    elif action == "accept":
        task = services.do_accept_task(user, task, acceptance=payload.acceptance, **kw)
    elif action == "reject":
        task = services.do_reject_task(user, task, reason=payload.reason or "", **kw)
    elif action == "cancel":
        task = services.do_cancel_task(user, task, reason=payload.reason or "", **kw)
    # The task as the service left it: an acceptance may take it out of the signer's queue.
    return task


# --- follow-ups --------------------------------------------------------------------------


@router.get(
    "/follow-ups", response={200: list[FollowUpOut], **_LIST_ERRORS}, tags=["follow-ups"], summary="List follow-ups"
)
@paginate(LinkedLimitOffset)
def list_follow_ups(request, filters: Query[FollowUpFilters]):
    """Follow-up calls (回访) of the requests in the user's scope, earliest due first."""
    follow_ups = follow_ups_for(request.user).select_related("case__party")
    if filters.project is not None:
        follow_ups = follow_ups.filter(case__project_id=filters.project)
    if filters.due is not None:
        start = timezone.make_aware(datetime.combine(filters.due, time.min))
        follow_ups = follow_ups.filter(due__gte=start, due__lt=start + timedelta(days=1))
    if filters.overdue:
        follow_ups = follow_ups.filter(done_at__isnull=True, due__lt=timezone.now())
    if filters.pending is not None:
        follow_ups = follow_ups.filter(done_at__isnull=filters.pending)
    return follow_ups.order_by("due", "id")


@router.post(
    "/follow-ups/{int:follow_up_id}/outcome",
    response={200: FollowUpOut, **_WRITE_ERRORS},
    tags=["follow-ups"],
    summary="Record a follow-up call",
)
@_service_refusals()
def record_follow_up(request, follow_up_id: int, payload: FollowUpOutcomeIn):
    """satisfied / basically_satisfied → followed up; dissatisfied → the request reopens, and with
    `then` "escalate" it is also flagged as a major complaint and handed up to the team leads and managers;
    unreachable → one more attempt, still pending. `version` is the request's (`case_version`)."""
    user = request.user
    follow_up = access_follow_up_by_id(user, follow_up_id)
    services.do_record_follow_up(
        user,
        follow_up,
        expected_version=payload.version,
        outcome=payload.outcome,
        note=payload.note,
        then=payload.then,
    )
    return follow_ups_for(user).select_related("case__party").get(pk=follow_up.pk)
