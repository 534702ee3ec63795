"""What the agent sees when a call rings: the caller's customers, their units and open requests.

The customers are found by the caller's number among the parties the agent may see
(`estate.queries.parties_for`), so an agent never learns about a household outside their scope.
"""

from urllib.parse import urlencode

from django.db.models import Prefetch
from django.urls import reverse

from guanjia.cases.queries import open_cases_of
from guanjia.cases.views import STATUS_COLOURS
from guanjia.estate.identity import mask_phone
from guanjia.estate.models import Occupancy
from guanjia.estate.queries import parties_for, units_for
from guanjia.org.permissions import can

from .models import Call
from .services import parties_with_phone


def phone_shown(user, phone: str) -> str:
    """The number as this user may see it: whole for those who call owners back, else 138****5678."""
    return phone if can(user, "phone", "view_full") else mask_phone(phone)


def new_case_url(call: Call, party=None) -> str:
    """The hotline entry form, carrying the call (and the customer picked)."""
    params = {"call": call.pk}
    if party is not None:
        params["party"] = party.pk
    return f"{reverse('cases:case_new')}?{urlencode(params)}"


def callers_of(user, call: Call) -> list:
    """The parties the user may see with the caller's number, each with `.units`, `.open_cases` and `.new_case_url`."""
    if not call.caller:
        return []
    current = Prefetch(
        "occupancies",
        queryset=Occupancy.objects.current()
        .filter(unit__in=units_for(user).values("pk"))
        .select_related("unit__building", "unit__entrance", "unit__project"),
        to_attr="current_occupancies",
    )
    parties = parties_with_phone(parties_for(user).prefetch_related(current), call.caller)
    if not parties:
        return []
    unit_ids = {o.unit_id for p in parties for o in p.current_occupancies}
    found = list(
        open_cases_of(user, party_ids=[p.pk for p in parties], unit_ids=unit_ids)
        .prefetch_related("units")
        .order_by("-received_at")[:20]
    )
    for case in found:
        case.status_colour = STATUS_COLOURS.get(case.status, "secondary")
    for party in parties:
        own_units = {o.unit_id for o in party.current_occupancies}
        party.units = [o.unit for o in party.current_occupancies]
        party.roles = {o.unit_id: o.get_role_display() for o in party.current_occupancies}
        party.open_cases = [c for c in found if c.party_id == party.pk or own_units & {u.pk for u in c.units.all()}]
        party.phone_shown = phone_shown(user, party.phone)
        party.new_case_url = new_case_url(call, party)
    return parties
