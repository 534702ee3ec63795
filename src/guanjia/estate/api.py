"""REST API of the unit ledger: buildings, units, parties and their occupancies.

Handlers are thin: they read through `queries` (scoped; anything outside the user's scope is
404), turn ids in the body into objects the user may see, and write through `services`,
which check the role and raise field-keyed errors.
"""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from guanjia.core.schemas import LinkedLimitOffset, Problem
from guanjia.org.queries import areas_for, projects_for
from guanjia.privacy.services import record_party_view

from . import services
from .models import Entrance, Occupancy, Tag
from .queries import (
    access_building_by_id,
    access_party_by_id,
    access_unit_by_id,
    buildings_for,
    occupancies_for,
    parties_for,
    search_parties,
    units_for,
)
from .schemas import (
    BuildingFilters,
    BuildingIn,
    BuildingOut,
    BuildingPatch,
    OccupancyIn,
    OccupancyOut,
    PartyFilters,
    PartyIn,
    PartyOut,
    PartyPatch,
    UnitFilters,
    UnitIn,
    UnitOut,
    UnitPatch,
)

router = Router()

SOURCE = "api"
_LIST_ERRORS = {401: Problem, 422: Problem}
_READ_ERRORS = {401: Problem, 404: Problem}
_WRITE_ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


class _Resolver:
    """Turns the ids of a request body into objects inside the user's scope.

    An id the user may not see is reported like one that does not exist, on its field,
    and all such fields are reported together.
    """

    def __init__(self, user, data: dict):
        self.user = user
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def one(self, field: str, queryset, message: str) -> None:
        if self.data.get(field) is None:
            return
        obj = queryset.filter(pk=self.data[field]).first()
        if obj is None:
            self.errors[field] = [message]
        else:
            self.data[field] = obj

    def tags(self) -> None:
        names = self.data.get("tags")
        if names is None:
            return
        names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        tags = list(Tag.objects.filter(name__in=names))
        unknown = sorted(set(names) - {t.name for t in tags})
        if unknown:
            self.errors["tags"] = [_("No such tag: %(names)s.") % {"names": "、".join(unknown)}]
        else:
            self.data["tags"] = tags

    def check(self) -> dict:
        if self.errors:
            raise ValidationError(self.errors)
        return self.data


def _project(resolver: _Resolver) -> None:
    resolver.one("project", projects_for(resolver.user), _("No such project in your scope."))


# --- buildings ---------------------------------------------------------------------------


@router.get("/buildings", response={200: list[BuildingOut], **_LIST_ERRORS}, tags=["buildings"])
@paginate(LinkedLimitOffset)
def list_buildings(request, filters: Query[BuildingFilters]):
    """Buildings in the user's scope, with their entrances."""
    buildings = buildings_for(request.user).prefetch_related("entrances")
    if filters.project is not None:
        buildings = buildings.filter(project_id=filters.project)
    if filters.area is not None:
        buildings = buildings.filter(area_id=filters.area)
    return buildings.order_by("project_id", "number", "name", "pk")


@router.get("/buildings/{int:building_id}", response={200: BuildingOut, **_READ_ERRORS}, tags=["buildings"])
def get_building(request, building_id: int):
    return access_building_by_id(request.user, building_id)


def _building_data(request, data: dict, project_id: int | None) -> dict:
    resolver = _Resolver(request.user, data)
    _project(resolver)
    project_id = getattr(resolver.data.get("project"), "pk", project_id)
    # An area belongs to one project; a building can only join an area of its own project.
    resolver.one(
        "area",
        areas_for(request.user).filter(project_id=project_id),
        _("No such area in this building's project."),
    )
    return resolver.check()


@router.post("/buildings", response={201: BuildingOut, **_WRITE_ERRORS}, tags=["buildings"])
def create_building(request, payload: BuildingIn):
    data = payload.model_dump()
    entrances = data.pop("entrances")
    data = _building_data(request, data, None)
    return Status(201, services.do_create_building(request.user, data, entrances=entrances, source=SOURCE))


@router.patch("/buildings/{int:building_id}", response={200: BuildingOut, **_WRITE_ERRORS}, tags=["buildings"])
def update_building(request, building_id: int, payload: BuildingPatch):
    building = access_building_by_id(request.user, building_id)
    data = _building_data(request, payload.model_dump(exclude_unset=True), building.project_id)
    return services.do_update_building(request.user, building, data, source=SOURCE)


# --- units -------------------------------------------------------------------------------


@router.get("/units", response={200: list[UnitOut], **_LIST_ERRORS}, tags=["units"])
@paginate(LinkedLimitOffset)
def list_units(request, filters: Query[UnitFilters]):
    """Units in the user's scope."""
    units = units_for(request.user)
    for field in ("project", "building", "entrance"):
        value = getattr(filters, field)
        if value is not None:
            units = units.filter(**{f"{field}_id": value})
    for field in ("kind", "status", "number"):
        value = getattr(filters, field)
        if value:
            units = units.filter(**{field: value})
    return units.order_by("building_id", "entrance_id", "floor", "number", "pk")


@router.get("/units/{int:unit_id}", response={200: UnitOut, **_READ_ERRORS}, tags=["units"])
def get_unit(request, unit_id: int):
    return access_unit_by_id(request.user, unit_id)


def _unit_data(request, data: dict) -> dict:
    resolver = _Resolver(request.user, data)
    resolver.one("building", buildings_for(request.user), _("No such building in your scope."))
    resolver.one(
        "entrance",
        Entrance.objects.filter(building__in=buildings_for(request.user).values("pk")),
        _("No such entrance in your scope."),
    )
    return resolver.check()


@router.post("/units", response={201: UnitOut, **_WRITE_ERRORS}, tags=["units"])
def create_unit(request, payload: UnitIn):
    return Status(201, services.do_create_unit(request.user, _unit_data(request, payload.model_dump()), source=SOURCE))


@router.patch("/units/{int:unit_id}", response={200: UnitOut, **_WRITE_ERRORS}, tags=["units"])
def update_unit(request, unit_id: int, payload: UnitPatch):
    unit = access_unit_by_id(request.user, unit_id)
    data = _unit_data(request, payload.model_dump(exclude_unset=True))
    return services.do_update_unit(request.user, unit, data, source=SOURCE)


@router.get(
    "/units/{int:unit_id}/occupancies", response={200: list[OccupancyOut], **_READ_ERRORS}, tags=["occupancies"]
)
@paginate(LinkedLimitOffset)
def list_unit_occupancies(request, unit_id: int):
    """Owners, residents and tenants of a unit, past and present, newest first."""
    unit = access_unit_by_id(request.user, unit_id)
    return occupancies_for(request.user).filter(unit=unit).order_by("-start", "pk")


# --- parties -----------------------------------------------------------------------------


@router.get("/parties", response={200: list[PartyOut], **_LIST_ERRORS}, tags=["parties"])
@paginate(LinkedLimitOffset)
def list_parties(request, filters: Query[PartyFilters]):
    """Owners, residents and tenants in the user's scope. Phones are masked unless the role may see them."""
    q = (filters.q or "").strip()
    parties = search_parties(request.user, q) if q else parties_for(request.user)
    if filters.project is not None:
        lives_there = Occupancy.objects.filter(party=OuterRef("pk"), unit__project_id=filters.project)
        parties = parties.filter(Q(project_id=filters.project) | Exists(lives_there))
    if filters.tag:
        parties = parties.filter(tags__name=filters.tag.strip())
    return parties.prefetch_related("tags").order_by("name_pinyin", "pk")


def _party(request, party_id: int):
    return access_party_by_id(request.user, party_id)


@router.get("/parties/{int:party_id}", response={200: PartyOut, **_READ_ERRORS}, tags=["parties"])
def get_party(request, party_id: int):
    """One party; the read is written to the personal-data access log (guanjia.privacy), like its page."""
    party = _party(request, party_id)
    record_party_view(request, party)
    return party


def _party_data(request, data: dict) -> dict:
    resolver = _Resolver(request.user, data)
    _project(resolver)
    resolver.tags()
    return resolver.check()


@router.post("/parties", response={201: PartyOut, **_WRITE_ERRORS}, tags=["parties"])
def create_party(request, payload: PartyIn):
    party = services.do_create_party(request.user, _party_data(request, payload.model_dump()), source=SOURCE)
    return Status(201, party)


@router.patch("/parties/{int:party_id}", response={200: PartyOut, **_WRITE_ERRORS}, tags=["parties"])
def update_party(request, party_id: int, payload: PartyPatch):
    party = _party(request, party_id)
    return services.do_update_party(
        request.user, party, _party_data(request, payload.model_dump(exclude_unset=True)), source=SOURCE
    )


@router.get(
    "/parties/{int:party_id}/occupancies",
    response={200: list[OccupancyOut], **_READ_ERRORS},
    tags=["occupancies"],
)
@paginate(LinkedLimitOffset)
def list_party_occupancies(request, party_id: int):
    """The units a party owns, lives in or rents (those inside the user's scope), newest first."""
    party = _party(request, party_id)
    return occupancies_for(request.user).filter(party=party).order_by("-start", "pk")


@router.post("/parties/{int:party_id}/occupancies", response={201: OccupancyOut, **_WRITE_ERRORS}, tags=["occupancies"])
def add_occupancy(request, party_id: int, payload: OccupancyIn):
    """Tie the party to a unit as owner, resident or tenant."""
    party = _party(request, party_id)
    resolver = _Resolver(request.user, payload.model_dump())
    resolver.one("unit", units_for(request.user), _("No such unit in your scope."))
    data = resolver.check()
    occupancy = services.do_add_occupancy(
        request.user,
        party,
        data["unit"],
        data["role"],
        data["start"] or timezone.localdate(),
        data["end"],
        data["note"],
    )
    return Status(201, occupancy)
