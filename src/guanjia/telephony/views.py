"""Console pages of the hotline: the screen-pop every agent's console polls, and the call list.

The screen-pop is polled every few seconds by every agent's console, so its answer for "nothing
new" is one indexed query and an empty 204 (htmx then leaves the page alone). The poller sends
what it shows (`shown`): the fragment is rendered only when that changes.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from guanjia.cases.models import Case
from guanjia.core.paging import CappedPaginator
from guanjia.org.permissions import can

from .choices import CallState
from .queries import calls_for, popped_call
from .screenpop import callers_of, new_case_url, phone_shown
from .services import do_close_screen_pop

# htmx stops polling on this status: for a signed-out console or a role that takes no calls.
STOP_POLLING = 286
STATE_COLOURS = {
    CallState.RINGING: "orange",
    CallState.ANSWERED: "green",
    CallState.ENDED: "secondary",
    CallState.MISSED: "red",
}


def _pop_key(call) -> str:
    return f"{call.pk}-{call.state}" if call is not None else ""


@require_GET
def screen_pop(request):
    """The agent's pop-up: 204 when it shows what the console already shows, else the new fragment."""
    user = request.user
    if not user.is_authenticated or not can(user, "call", "answer"):
        return HttpResponse(status=STOP_POLLING)
    call = popped_call(user)
    page_call = request.GET.get("page_call", "")
    if call is not None and str(call.pk) == page_call:
        # The agent is already recording a request for this call: the page says so, and the pop-up
        # would only cover the form.
        call = None
    key = _pop_key(call)
    if key == request.GET.get("shown", ""):
        return HttpResponse(status=204)
    context = {"call": call, "shown": key, "page_call": page_call}
    if call is not None:
        call.caller_shown = phone_shown(user, call.caller) if call.caller else ""
        call.state_colour = STATE_COLOURS.get(call.state, "secondary")
        context.update({"parties": callers_of(user, call), "new_case_url": new_case_url(call)})
    return render(request, "telephony/_screen_pop.html", context)


@login_required
@require_POST
def close_screen_pop(request, pk):
    do_close_screen_pop(request.user, pk)
    context = {"call": None, "shown": "", "page_call": request.GET.get("page_call", "")}
    return render(request, "telephony/_screen_pop.html", context)


@login_required
def call_list(request):
    """Recent calls (or only the missed ones) of the user's scope, newest first, with recordings and requests."""
    user = request.user
    if not can(user, "call", "view"):
        raise PermissionDenied
    view = request.GET.get("view", "")
    calls = calls_for(user).prefetch_related(
        Prefetch("cases", queryset=Case.objects.only("id", "number").order_by("id"))
    )
    if view == "missed":
        calls = calls.filter(state=CallState.MISSED)
    if request.current_project_id:
        calls = calls.filter(project_id=request.current_project_id)
    page = CappedPaginator(calls.order_by("-started_at", "-id"), settings.GUANJIA_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for call in page:
        call.caller_shown = phone_shown(user, call.caller) if call.caller else ""
        call.state_colour = STATE_COLOURS.get(call.state, "secondary")
    context = {"page": page, "view": view, "supervisor": can(user, "call", "supervise")}
    return render(request, "telephony/call_list.html", context)
