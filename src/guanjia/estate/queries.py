"""Scoped reads of the unit ledger: one scoping function per model, and the party search.

Every list, detail page, export, search and API call of buildings, units and parties goes
through `buildings_for`, `units_for` or `parties_for`.
"""

import re

from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from guanjia.org.scope import filter_by_scope, scope_of, sees_area

from .models import Building, ContactLog, Occupancy, Party, Unit


def buildings_for(user):
    return filter_by_scope(
        Building.objects.select_related("project", "area"), user, project="project_id", area="area_id"
    )


def units_for(user):
    return filter_by_scope(
        Unit.objects.select_related("project", "building", "entrance"),
        user,
        project="project_id",
        area="building__area_id",
    )


def parties_for(user):
    """Parties registered at a visible project or tied to a visible unit (area scope: units only)."""
    scope = scope_of(user)
    parties = Party.objects.select_related("project")
    if scope.everything:
        return parties
    if scope.empty:
        return parties.none()
    if scope.area_ids is not None:
        in_area = Occupancy.objects.filter(party=OuterRef("pk"), unit__building__area_id__in=scope.area_ids)
        return parties.filter(Exists(in_area))
    at_unit = Occupancy.objects.filter(party=OuterRef("pk"), unit__project_id__in=scope.project_ids)
    return parties.filter(Q(project_id__in=scope.project_ids) | Exists(at_unit))


def sees_unit(user, unit) -> bool:
    """`units_for(user)` holds this unit (no query when its building is loaded)."""
    return sees_area(user, unit.project_id, unit.building.area_id)


def sees_party(user, party) -> bool:
    """`parties_for(user)` holds this party; a party registered at a visible project needs no query."""
    scope = scope_of(user)
    if scope.everything or (scope.area_ids is None and party.project_id in scope.project_ids):
        return True
    return parties_for(user).filter(pk=party.pk).exists()


def occupancies_for(user):
    return Occupancy.objects.select_related("party", "unit__building", "unit__entrance", "unit__project").filter(
        unit__in=units_for(user).values("pk")
    )


def contacts_for(user):
    return ContactLog.objects.select_related("staff", "unit__building", "unit__entrance").filter(
        party__in=parties_for(user).values("pk")
    )


def access_building_by_id(user, building_id) -> Building:
    return get_object_or_404(buildings_for(user), pk=building_id)


def access_unit_by_id(user, unit_id) -> Unit:
    return get_object_or_404(units_for(user), pk=unit_id)


def access_party_by_id(user, party_id) -> Party:
    return get_object_or_404(parties_for(user), pk=party_id)


# 3-2-1502, 3/2/1502
_ROOM_DASHED = re.compile(r"^(\d+)[-/](\d+)[-/](\d+)$")
# 3栋1502, 3号楼2单元1502室, 3幢2-1502
_ROOM_SPOKEN = re.compile(r"^(\d+)(?:栋|幢|号楼|座)(?:(\d+)(?:单元|-))?(\d+)(?:室|号)?$")
_LATIN = re.compile(r"^[a-zA-Z]+$")


def units_matching_room(units, text: str):
    """Units whose address matches what staff type: 3-2-1502, 3栋1502, 3栋2单元1502, or None if `text` is no room."""
    text = text.replace(" ", "")
    match = _ROOM_DASHED.match(text) or _ROOM_SPOKEN.match(text)
    if not match:
        return None
    building, entrance, number = match.groups()
    units = units.filter(building__number=int(building), number=number)
    if entrance:
        units = units.filter(entrance__number=int(entrance))
    return units


def search_parties(user, text: str):
    """Parties by name, pinyin (zhangsan), initials (zs), phone tail (5678 or more digits) or room."""
    text = (text or "").strip()
    parties = parties_for(user)
    if not text:
        return parties.none()
    rooms = units_matching_room(units_for(user), text)
    if rooms is not None:
        return parties.filter(occupancies__unit__in=rooms.values("pk")).distinct()
    if text.isdigit():
        if len(text) < 4:
            return parties.none()
        if len(text) == 4:
            by_phone = Q(phone_tail=text)
        else:
            by_phone = Q(phone__endswith=text) | Q(phone2__endswith=text)
        # A bare room number such as 1502 also finds the households living there.
        at_room = Occupancy.objects.filter(party=OuterRef("pk"), unit__in=units_for(user).filter(number=text))
        return parties.filter(by_phone | Exists(at_room))
    if _LATIN.match(text):
        latin = text.lower()
        return parties.filter(Q(name_initials__startswith=latin) | Q(name_pinyin__startswith=latin))
    return parties.filter(name__contains=text)


def current_occupancies(party_or_unit):
    return party_or_unit.occupancies.current().select_related(
        "party", "unit__building", "unit__entrance", "unit__project"
    )
