"""REST API of the hotline: the call system posts call events; supervisors and agents read calls.

`POST /calls/events` is idempotent by (call_id, event): the first delivery answers 201, a repeat
answers 200 with `recorded: false` and changes nothing.
"""

from ninja import Query, Router, Status
from ninja.pagination import paginate

from guanjia.core.schemas import LinkedLimitOffset, Problem

from .models import Call
from .queries import access_call_by_id, calls_for
from .schemas import CallEventIn, CallFilters, CallOut
from .services import do_record_call_event

router = Router(tags=["calls"])

_WRITE_ERRORS = {401: Problem, 403: Problem, 409: Problem, 422: Problem}


def _with_links(call: Call) -> Call:
    return Call.objects.select_related("agent").prefetch_related("case_links").get(pk=call.pk)


@router.post("/calls/events", response={200: CallOut, 201: CallOut, **_WRITE_ERRORS}, summary="Report a call event")
def post_call_event(request, payload: CallEventIn):
    """For the call system: ringing, answered, ended, recording. Needs a token whose role may report calls.

    The first event of a call creates it and must carry `caller` and `callee` (a hotline line
    configured in the token's scope). Sending an event again changes nothing (200, `recorded: false`).
    """
    call, recorded = do_record_call_event(
        request.user,
        call_id=payload.call_id,
        event=payload.event,
        at=payload.at,
        caller=payload.caller,
        callee=payload.callee,
        agent=payload.agent,
        duration=payload.duration,
        recording_url=payload.recording_url,
        payload=payload.model_dump(mode="json", exclude_defaults=True),
    )
    call = _with_links(call)
    call.recorded_now = recorded
    return Status(201 if recorded else 200, call)


@router.get("/calls", response={200: list[CallOut], 401: Problem, 422: Problem}, summary="List calls")
@paginate(LinkedLimitOffset)
def list_calls(request, filters: Query[CallFilters]):
    """Calls in the user's scope, newest first: supervisors see all of their projects, agents their own."""
    calls = calls_for(request.user).prefetch_related("case_links")
    if filters.project is not None:
        calls = calls.filter(project_id=filters.project)
    if filters.state is not None:
        calls = calls.filter(state=filters.state)
    if filters.agent is not None:
        calls = calls.filter(agent_id=filters.agent)
    return calls.order_by("-started_at", "-id")


@router.get("/calls/{int:call_id}", response={200: CallOut, 401: Problem, 404: Problem}, summary="Get a call")
def get_call(request, call_id: int):
    return access_call_by_id(request.user, call_id)
