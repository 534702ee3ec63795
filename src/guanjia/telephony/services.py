"""Every write to calls: the call system's events, linking a request to a call, closing the screen-pop.

`do_record_call_event` is idempotent by (call id, event kind): the call system retries webhooks
that timed out, and the same event sent twice must change nothing. Events may also arrive out of
order (an "ended" overtaking its "answered"); the call's state is therefore derived from the
times of the events seen so far, never from the order they came in.
"""

import re
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.cases.queries import cases_for
from guanjia.core.errors import require
from guanjia.estate.identity import normalize_phone
from guanjia.estate.models import Occupancy, Party
from guanjia.org.models import Project
from guanjia.org.permissions import can

from .choices import CallEventKind, CallState
from .models import Call, CallCase, CallEvent, HotlineAgent, HotlineLine
from .queries import calls_for, lines_for

# How long the screen-pop stays up: a phone does not ring for ten minutes, and a call is seldom
# longer than two hours (if the "ended" event is lost, the pop-up still goes away). After the
# call ends it stays a little, so the agent can still press "new request".
RING_POP = timedelta(minutes=10)
TALK_POP = timedelta(hours=2)
AFTER_CALL_POP = timedelta(minutes=3)
# The call system's clock may be a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)
MAX_PARTIES = 5

_recording_url = URLValidator(schemes=["http", "https"])


def caller_number(raw: str) -> str:
    """The caller's number in the estate's normal form, or "" when withheld or not a mainland number.

    Call systems send numbers in many shapes: "+86 138 1234 5678", "8613812345678",
    "013812345678" (a trunk prefix before a mobile), "010-1234 5678".
    """
    text = re.sub(r"[\s\-()（）]", "", str(raw or ""))
    digits = text.lstrip("+")
    if not digits.isdigit():
        return ""
    if text.startswith("+"):
        candidate = text
    elif digits.startswith("0086"):
        candidate = "+" + digits[2:]
    elif digits.startswith("86") and len(digits) == 13:
        candidate = "+" + digits
    elif digits.startswith("01") and len(digits) == 12 and digits[1] == "1":
        candidate = digits[1:]
    else:
        candidate = digits
    try:
        return normalize_phone(candidate)
    except ValidationError:
        return ""


def line_number(raw: str) -> str:
    """A line as configured: digits only (4008001234, 01062345678)."""
    return re.sub(r"\D", "", str(raw or ""))


def parties_with_phone(parties, phone: str, limit: int = MAX_PARTIES) -> list:
    """Parties among `parties` with this normalised number: first the indexed main phone, then the second phone."""
    if not phone:
        return []
    found = list(parties.filter(phone=phone)[:limit])
    if not found:
        found = list(parties.filter(phone2=phone)[:limit])
    return found


def _place(call: Call, line: HotlineLine) -> None:
    """The call's company, project and customer, from the line and the caller's number."""
    call.company_id = line.company_id
    call.project_id = line.project_id
    if not call.caller:
        return
    project_ids = (
        [line.project_id]
        if line.project_id
        else list(Project.objects.filter(company_id=line.company_id).values_list("pk", flat=True))
    )
    lives_here = Occupancy.objects.current().filter(party=OuterRef("pk"), unit__project_id__in=project_ids)
    candidates = Party.objects.filter(Q(project_id__in=project_ids) | Exists(lives_here))
    parties = parties_with_phone(candidates, call.caller)
    if not line.project_id:
        projects = {p.project_id for p in parties}
        if len(projects) == 1:
            call.project_id = projects.pop()
    if len(parties) == 1:
        call.party = parties[0]


def _derive(call: Call) -> None:
    """State, duration and screen-pop time from the times seen so far."""
    if call.ended_at:
        call.state = CallState.ENDED if call.answered_at else CallState.MISSED
        if call.duration is None and call.answered_at:
            call.duration = max(int((call.ended_at - call.answered_at).total_seconds()), 0)
    elif call.answered_at:
        call.state = CallState.ANSWERED
    else:
        call.state = CallState.RINGING
    if call.agent_id is None or call.pop_closed:
        call.pop_until = None
    elif call.state == CallState.RINGING:
        call.pop_until = call.started_at + RING_POP
    elif call.state == CallState.ANSWERED:
        call.pop_until = call.answered_at + TALK_POP
    elif call.state == CallState.ENDED:
        call.pop_until = call.ended_at + AFTER_CALL_POP
    else:
        call.pop_until = None


def _agent(extension: str):
    """The staff member behind an extension, or None (an agent the console does not know)."""
    if not extension:
        return None
    mapping = HotlineAgent.objects.select_related("staff").filter(extension=extension).first()
    if mapping is None or not mapping.staff.is_active:
        return None
    return mapping.staff


def do_record_call_event(
    actor,
    *,
    call_id: str,
    event: str,
    at: datetime | None = None,
    caller: str = "",
    callee: str = "",
    agent: str = "",
    duration: int | None = None,
    recording_url: str = "",
    payload: dict | None = None,
) -> tuple[Call, bool]:
    """Apply one event of the call system to its call; returns (call, whether anything was recorded).

    The first event of a call creates it and needs `caller` and `callee` (a configured line in the
    actor's scope). An event of a kind already recorded for the call changes nothing.
    """
    require(can(actor, "call", "post_events"), _("Your role may not report calls."))
    now = timezone.now()
    call_id = (call_id or "").strip()
    agent = (agent or "").strip()
    recording_url = (recording_url or "").strip()
    errors: dict[str, str] = {}
    if not call_id:
        errors["call_id"] = _("Send the call system's id of the call.")
    if event not in CallEventKind.values:
        errors["event"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(CallEventKind.values)}
    if at is None:
        at = now
    elif timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        errors["at"] = _("Enter a time in the past.")
    if duration is not None and duration < 0:
        errors["duration"] = _("Enter a value of at least %(limit)s.") % {"limit": 0}
    if event == CallEventKind.RECORDING and not recording_url:
        errors["recording_url"] = _("A recording event needs the recording's address.")
    if recording_url:
        try:
            _recording_url(recording_url)
        except ValidationError:
            errors["recording_url"] = _("Enter an http or https address.")
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        call = Call.objects.select_for_update().filter(provider_call_id=call_id).first()
        if call is None:
            call = _new_call(actor, call_id, at=at, caller=caller, callee=callee)
        elif call.line_id is not None and not lines_for(actor).filter(pk=call.line_id).exists():
            raise PermissionDenied(_("This call belongs to a line outside your scope."))
        if CallEvent.objects.filter(call=call, kind=event).exists():
            return call, False
        CallEvent.objects.create(call=call, kind=event, at=at, received_at=now, payload=payload or {})
        if agent and event in (CallEventKind.RINGING, CallEventKind.ANSWERED):
            call.agent_extension = agent[:32]
            call.agent = _agent(agent)
        if event == CallEventKind.RINGING:
            call.started_at = min(call.started_at, at)
        elif event == CallEventKind.ANSWERED:
            call.answered_at = at
            call.started_at = min(call.started_at, at)
        elif event == CallEventKind.ENDED:
            call.ended_at = at
            if duration is not None:
                call.duration = duration
        if recording_url:
            call.recording_url = recording_url
        _derive(call)
        call.save()
    return call, True


def _new_call(actor, call_id: str, *, at: datetime, caller: str, callee: str) -> Call:
    errors: dict[str, str] = {}
    number = line_number(callee)
    line = lines_for(actor).filter(number=number).first() if number else None
    if not number:
        errors["callee"] = _("The first event of a call needs the number called.")
    elif line is None:
        errors["callee"] = _("No active hotline line with this number in your scope.")
    if not (caller or "").strip():
        errors["caller"] = _("The first event of a call needs the caller's number (or “anonymous”).")
    if errors:
        raise ValidationError(errors)
    call = Call(
        provider_call_id=call_id,
        line=line,
        caller=caller_number(caller),
        caller_raw=str(caller).strip()[:40],
        callee=number,
        started_at=at,
    )
    _place(call, line)
    try:
        with transaction.atomic():
            call.save()
    except IntegrityError:
        # The same call's first event, sent twice at once: the other request created it.
        call = Call.objects.select_for_update().get(provider_call_id=call_id)
    return call


def do_link_call_case(actor, call: Call, case) -> bool:
    """Record that `case` was taken on `call`; True when the link is new. Both must be in the actor's scope."""
    if not calls_for(actor).filter(pk=call.pk).exists() or not cases_for(actor).filter(pk=case.pk).exists():
        raise PermissionDenied(_("This call or request does not exist or is outside your scope."))
    _link, created = CallCase.objects.get_or_create(call=call, case=case, defaults={"linked_by": actor})
    if created:
        # The request is the reason for the pop-up; once recorded the agent needs it no more.
        Call.objects.filter(pk=call.pk, agent=actor).update(pop_closed=True, pop_until=None)
    return created


def do_close_screen_pop(actor, call_id) -> None:
    """The agent closed the pop-up of their call: it does not come back for this call."""
    updated = Call.objects.filter(pk=call_id, agent_id=actor.pk).update(pop_closed=True, pop_until=None)
    if not updated:
        raise PermissionDenied(_("This call is not yours."))
