"""The hotline entry form taken during a call: `?call=<id>` prefills it and links the new request to the call.

`cases.views.case_new` calls `call_intake` once per request; the form posts back to the same
address, so the call id travels in the query string and the form itself needs no extra field.
A call id outside the user's scope is ignored: the form then works as if no call were given.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.estate.identity import mask_phone
from guanjia.estate.models import Occupancy
from guanjia.estate.queries import parties_for, units_for
from guanjia.org.permissions import can

from .models import Call
from .queries import calls_for
from .services import do_link_call_case


@dataclass
class CallIntake:
    user: object
    call: Call
    picked: dict | None

    def link(self, case) -> None:
        """Link the request just recorded (or found again by its idempotency key) to the call."""
        try:
            do_link_call_case(self.user, self.call, case)
        except PermissionDenied:
            # The request is recorded either way; a link the user may not make is simply left out.
            pass


def _digits(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() else None


def call_intake(request, initial: dict) -> CallIntake | None:
    """The call named by `?call=` if the user sees it; fills `initial` (project, caller's phone) from it."""
    user = request.user
    call_id = _digits(request.GET.get("call"))
    if call_id is None:
        return None
    call = calls_for(user).filter(pk=call_id).first()
    if call is None:
        return None
    party = None
    party_id = _digits(request.GET.get("party")) or call.party_id
    if party_id is not None:
        party = parties_for(user).filter(pk=party_id).first()
    picked = None
    if party is not None:
        units = [
            o.unit
            for o in Occupancy.objects.current()
            .filter(party=party, unit__in=units_for(user).values("pk"))
            .select_related("unit__building", "unit__entrance")
        ]
        picked = {
            "party": party.pk,
            "party_label": party.name,
            "units": ",".join(str(u.pk) for u in units),
            "unit_label": "、".join(u.label for u in units),
        }
        initial["project"] = units[0].project_id if units else party.project_id
    elif call.project_id:
        initial["project"] = call.project_id
    if call.caller:
        initial["caller_phone"] = call.caller
    if request.method == "GET":
        if not call.caller:
            shown = _("(number withheld)")
        else:
            shown = call.caller if can(user, "phone", "view_full") else mask_phone(call.caller)
        messages.info(
            request,
            _("This request will be linked to the call %(phone)s at %(time)s.")
            % {
                "phone": shown,
                "time": timezone.localtime(call.started_at).strftime("%H:%M"),
            },
        )
    return CallIntake(user=user, call=call, picked=picked)
