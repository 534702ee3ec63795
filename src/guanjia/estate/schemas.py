"""API schemas of the unit ledger: what the API shows and what it accepts.

Input field names are the model's field names (a related object by its id), so the
field-keyed errors of the services name the same fields the client sent.
"""

from datetime import date
from decimal import Decimal

from ninja import Field, Schema

from guanjia.core.schemas import FilterInput, InputSchema, null_clears
from guanjia.org.permissions import can

from .choices import Gender, OccupancyRole, PartyKind, UnitKind, UnitStatus
from .identity import mask_phone

# --- buildings ---------------------------------------------------------------------------


class EntranceOut(Schema):
    id: int
    name: str
    number: int


class BuildingOut(Schema):
    id: int
    project_id: int
    project_name: str = Field(..., alias="project.name")
    name: str
    number: int
    floors: int
    area_id: int | None
    area_name: str | None
    entrances: list[EntranceOut]

    @staticmethod
    def resolve_area_name(obj) -> str | None:
        return obj.area.name if obj.area_id else None

    @staticmethod
    def resolve_entrances(obj) -> list:
        return list(obj.entrances.all())


class BuildingIn(InputSchema):
    project: int = Field(..., description="Project id.")
    name: str = Field(..., min_length=1, max_length=30, examples=["3栋"])
    number: int = Field(0, ge=0, description="Used to sort buildings.")
    floors: int = Field(1, ge=1, le=200)
    area: int | None = Field(None, description="Area (片区) id, of the same project.")
    entrances: int = Field(0, ge=0, le=50, description="How many entrances (1单元, 2单元, …) to create with it.")


class BuildingPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=30)
    number: int | None = Field(None, ge=0)
    floors: int | None = Field(None, ge=1, le=200)
    area: int | None = Field(None, description="Area id; null removes the building from its area.")


class BuildingFilters(FilterInput):
    project: int | None = Field(None, description="Project id.")
    area: int | None = Field(None, description="Area id.")


# --- units -------------------------------------------------------------------------------


class UnitOut(Schema):
    id: int
    label: str = Field(..., description="As staff say it: 3栋2单元1502.", examples=["3栋2单元1502"])
    project_id: int
    project_name: str = Field(..., alias="project.name")
    building_id: int
    building_name: str = Field(..., alias="building.name")
    entrance_id: int | None
    entrance_name: str | None
    floor: int
    number: str
    kind: UnitKind
    status: UnitStatus
    floor_area: str | None = Field(..., description="Square metres, a decimal as a string.", examples=["89.50"])
    handed_over_on: date | None
    note: str

    @staticmethod
    def resolve_entrance_name(obj) -> str | None:
        return obj.entrance.name if obj.entrance_id else None

    @staticmethod
    def resolve_floor_area(obj) -> str | None:
        return None if obj.floor_area is None else f"{obj.floor_area:.2f}"


class UnitIn(InputSchema):
    building: int = Field(..., description="Building id.")
    entrance: int | None = Field(None, description="Entrance id, of the same building.")
    floor: int = Field(1, ge=-10, le=200)
    number: str = Field(..., min_length=1, max_length=20, examples=["1502"])
    kind: UnitKind = UnitKind.RESIDENCE
    floor_area: Decimal | None = Field(None, ge=0, max_digits=9, decimal_places=2)
    status: UnitStatus = UnitStatus.UNSOLD
    handed_over_on: date | None = None
    note: str = Field("", max_length=200)


class UnitPatch(InputSchema):
    building: int | None = None
    entrance: int | None = None
    floor: int | None = Field(None, ge=-10, le=200)
    number: str | None = Field(None, min_length=1, max_length=20)
    kind: UnitKind | None = None
    floor_area: Decimal | None = Field(None, ge=0, max_digits=9, decimal_places=2)
    status: UnitStatus | None = None
    handed_over_on: date | None = None
    note: str | None = Field(None, max_length=200)

    _null_clears = null_clears("note")


class UnitFilters(FilterInput):
    project: int | None = Field(None, description="Project id.")
    building: int | None = Field(None, description="Building id.")
    entrance: int | None = Field(None, description="Entrance id.")
    kind: UnitKind | None = None
    status: UnitStatus | None = None
    number: str | None = Field(None, description="Room number, exactly: 1502.")


# --- parties -----------------------------------------------------------------------------


def _phone_for(context, phone: str) -> str:
    request = (context or {}).get("request")
    user = getattr(request, "user", None)
    return phone if can(user, "phone", "view_full") else mask_phone(phone)


class PartyOut(Schema):
    id: int
    kind: PartyKind
    name: str
    gender: Gender
    phone: str = Field(..., description="Masked (138****5678) unless the role may see whole numbers.")
    phone2: str
    id_number_masked: str = Field(..., description="The ID number is never shown whole.")
    project_id: int = Field(..., description="Where the party is registered.")
    project_name: str = Field(..., alias="project.name")
    tags: list[str]
    note: str

    @staticmethod
    def resolve_phone(obj, context) -> str:
        return _phone_for(context, obj.phone)

    @staticmethod
    def resolve_phone2(obj, context) -> str:
        return _phone_for(context, obj.phone2)

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class PartyIn(InputSchema):
    kind: PartyKind = PartyKind.PERSON
    name: str = Field(..., min_length=1, max_length=100, examples=["张伟"])
    gender: Gender = Gender.UNKNOWN
    phone: str = Field("", max_length=30, examples=["13812345678"])
    phone2: str = Field("", max_length=30)
    id_number: str = Field("", max_length=30, description="Resident ID number; accepted, never shown back whole.")
    project: int = Field(..., description="Project id where the party is registered.")
    tags: list[str] = Field([], description="Names of existing tags.", examples=[["VIP"]])
    note: str = ""


class PartyPatch(InputSchema):
    kind: PartyKind | None = None
    # Leave it out to keep the name; a party cannot be without one, so null is refused.
    name: str = Field(None, min_length=1, max_length=100)
    gender: Gender | None = None
    phone: str | None = Field(None, max_length=30)
    phone2: str | None = Field(None, max_length=30)
    id_number: str | None = Field(None, max_length=30, description="An empty string removes it.")
    project: int | None = None
    tags: list[str] | None = Field(None, description="Replaces the party's tags.")
    note: str | None = None

    _null_clears = null_clears("phone", "phone2", "id_number", "note")
    _null_is_unknown = null_clears("gender", to=Gender.UNKNOWN)


class PartyFilters(FilterInput):
    project: int | None = Field(None, description="Registered at, or living in a unit of, this project.")
    tag: str | None = Field(None, description="Tag name.")
    q: str | None = Field(
        None, description="Name, pinyin (zhangsan), initials (zs), phone digits (at least 4) or room (3-2-1502)."
    )


# --- occupancies -------------------------------------------------------------------------


class OccupancyOut(Schema):
    id: int
    party_id: int
    party_name: str = Field(..., alias="party.name")
    unit_id: int
    unit_label: str = Field(..., alias="unit.label")
    project_id: int = Field(..., alias="unit.project_id")
    role: OccupancyRole
    start: date
    end: date | None
    is_current: bool
    note: str


class OccupancyIn(InputSchema):
    unit: int = Field(..., description="Unit id.")
    role: OccupancyRole = OccupancyRole.OWNER
    start: date | None = Field(None, description="Defaults to today.")
    end: date | None = None
    note: str = Field("", max_length=200)
