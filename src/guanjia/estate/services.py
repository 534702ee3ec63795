"""Every write to the unit ledger: validate, save, record the change history.

Views, the API, the importer and the demo loader call these functions; nothing else saves
ledger objects (the demo's bulk loader excepted, which writes no history by design).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from guanjia.core.errors import require
from guanjia.core.history import record_change, snapshot
from guanjia.core.models import ObjectChange
from guanjia.org.permissions import can
from guanjia.org.scope import scope_of

from .identity import id_digest, normalize_phone, protect_id_number, validate_id_number
from .models import Building, ContactLog, Entrance, Occupancy, Party, Tag, Unit

PARTY_FIELDS = ("kind", "name", "gender", "phone", "phone2", "project", "note")
UNIT_FIELDS = (
    "building",
    "entrance",
    "floor",
    "number",
    "kind",
    "floor_area",
    "status",
    "handed_over_on",
    "note",
)
BUILDING_FIELDS = ("project", "name", "number", "floors", "area")


def name_pinyin(name: str) -> tuple[str, str]:
    """("zhangsan", "zs") for 张三: what staff type when they do not know the characters."""
    syllables = lazy_pinyin(name, errors="ignore")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(syllables).lower()[:300], "".join(initials).lower()[:50]


def _in_scope(user, project_id: int, area_id: int | None = None) -> bool:
    scope = scope_of(user)
    if scope.everything:
        return True
    if project_id not in scope.project_ids:
        return False
    return scope.area_ids is None or area_id in scope.area_ids


def _assign(instance, data: dict, fields) -> None:
    for name in fields:
        if name in data:
            setattr(instance, name, data[name])


def clean_party_identity(data: dict, *, exclude_party_id=None) -> dict:
    """Normalise phones and the ID number in `data`; field-keyed ValidationError on bad values."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(data)
    for field in ("phone", "phone2"):
        if field in data:
            try:
                cleaned[field] = normalize_phone(data[field] or "")
            except ValidationError as exc:
                errors[field] = exc.messages
    if data.get("id_number"):
        try:
            cleaned["id_number"] = validate_id_number(data["id_number"])
        except ValidationError as exc:
            errors["id_number"] = exc.messages
        else:
            duplicate = Party.objects.filter(id_number_digest=id_digest(cleaned["id_number"]))
            if exclude_party_id:
                duplicate = duplicate.exclude(pk=exclude_party_id)
            if duplicate.exists():
                errors["id_number"] = [_("Another party already has this ID number.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _set_identity(party: Party, cleaned: dict) -> dict:
    extra = {}
    party.phone_tail = party.phone[-4:] if party.phone else ""
    party.name_pinyin, party.name_initials = name_pinyin(party.name)
    if "id_number" in cleaned:
        old_mask = party.id_number_masked
        party.id_number_encrypted, party.id_number_digest, party.id_number_masked = protect_id_number(
            cleaned["id_number"] or ""
        )
        if old_mask != party.id_number_masked:
            extra["id_number_masked"] = [old_mask or None, party.id_number_masked or None]
    return extra


@transaction.atomic
def do_create_party(user, data: dict, *, source: str = "console") -> Party:
    """Register an owner, resident or tenant. `data` keys: PARTY_FIELDS, id_number, tags."""
    require(can(user, "party", "change"), _("You may not change parties."))
    cleaned = clean_party_identity(data)
    party = Party()
    _assign(party, cleaned, PARTY_FIELDS)
    if party.project_id and not _in_scope(user, party.project_id, _first_area(user)):
        raise ValidationError({"project": [_("This project is outside your scope.")]})
    _set_identity(party, cleaned)
    party.full_clean()
    party.save()
    if cleaned.get("tags") is not None:
        party.tags.set(cleaned["tags"])
    record_change(party, user, source=source)
    return party


def _first_area(user):
    scope = scope_of(user)
    return next(iter(scope.area_ids), None) if scope.area_ids else None


@transaction.atomic
def do_update_party(user, party: Party, data: dict, *, source: str = "console") -> Party:
    require(can(user, "party", "change"), _("You may not change parties."))
    party = Party.objects.select_for_update().get(pk=party.pk)
    before = snapshot(party)
    cleaned = clean_party_identity(data, exclude_party_id=party.pk)
    _assign(party, cleaned, PARTY_FIELDS)
    if "project" in cleaned and not _in_scope(user, party.project_id, _first_area(user)):
        raise ValidationError({"project": [_("This project is outside your scope.")]})
    extra = _set_identity(party, cleaned)
    party.full_clean()
    party.save()
    if cleaned.get("tags") is not None:
        old = sorted(party.tags.values_list("name", flat=True))
        party.tags.set(cleaned["tags"])
        new = sorted(t.name for t in cleaned["tags"])
        if old != new:
            extra["tags"] = ["、".join(old) or None, "、".join(new) or None]
    record_change(party, user, before, extra=extra, source=source)
    return party


@transaction.atomic
def do_create_unit(user, data: dict, *, source: str = "console") -> Unit:
    require(can(user, "unit", "change"), _("You may not change units."))
    unit = Unit()
    _assign(unit, data, UNIT_FIELDS)
    _check_unit_place(user, unit)
    unit.full_clean()
    unit.save()
    record_change(unit, user, source=source)
    return unit


@transaction.atomic
def do_update_unit(user, unit: Unit, data: dict, *, source: str = "console") -> Unit:
    require(can(user, "unit", "change"), _("You may not change units."))
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    before = snapshot(unit)
    _assign(unit, data, UNIT_FIELDS)
    _check_unit_place(user, unit)
    unit.full_clean()
    unit.save()
    record_change(unit, user, before, source=source)
    return unit


def _check_unit_place(user, unit: Unit) -> None:
    building: Building | None = unit.building if unit.building_id else None
    if building is None:
        raise ValidationError({"building": [_("Choose a building.")]})
    if not _in_scope(user, building.project_id, building.area_id):
        raise ValidationError({"building": [_("This building is outside your scope.")]})
    if unit.entrance_id and unit.entrance.building_id != building.pk:
        raise ValidationError({"entrance": [_("This entrance belongs to another building.")]})
    unit.project_id = building.project_id
    duplicate = Unit.objects.filter(building=building, entrance_id=unit.entrance_id, number=unit.number)
    if unit.pk:
        duplicate = duplicate.exclude(pk=unit.pk)
    if duplicate.exists():
        raise ValidationError({"number": [_("This room number already exists in this building and entrance.")]})


@transaction.atomic
def do_create_building(user, data: dict, *, entrances: int = 0, source: str = "console") -> Building:
    require(can(user, "building", "change"), _("You may not change buildings."))
    building = Building()
    _assign(building, data, BUILDING_FIELDS)
    _check_building(user, building)
    building.full_clean()
    building.save()
    for number in range(1, entrances + 1):
        Entrance.objects.create(building=building, number=number, name=f"{number}单元")
    record_change(building, user, source=source)
    return building


def _check_building(user, building: Building) -> None:
    """Scope, the area's project and a unique name, each reported on its own field."""
    if not building.project_id:
        raise ValidationError({"project": [_("Choose a project.")]})
    if not _in_scope(user, building.project_id, building.area_id):
        raise ValidationError({"project": [_("This project is outside your scope.")]})
    if building.area_id and building.area.project_id != building.project_id:
        raise ValidationError({"area": [_("This area belongs to another project.")]})
    duplicate = Building.objects.filter(project_id=building.project_id, name=building.name)
    if building.pk:
        duplicate = duplicate.exclude(pk=building.pk)
    if duplicate.exists():
        raise ValidationError({"name": [_("This project already has a building with this name.")]})


@transaction.atomic
def do_update_building(user, building: Building, data: dict, *, source: str = "console") -> Building:
    require(can(user, "building", "change"), _("You may not change buildings."))
    building = Building.objects.select_for_update().get(pk=building.pk)
    before = snapshot(building)
    _assign(building, data, BUILDING_FIELDS)
    _check_building(user, building)
    building.full_clean()
    building.save()
    record_change(building, user, before, source=source)
    return building


def _record_link(instance, user, change: list) -> None:
    """History of a unit or party gaining or losing an occupant: only the link, no field changes."""
    record_change(instance, user, snapshot(instance), extra={"occupancy": change}, action=ObjectChange.Action.UPDATE)


@transaction.atomic
def do_add_occupancy(user, party: Party, unit: Unit, role: str, start, end=None, note: str = "") -> Occupancy:
    """Tie a party to a unit; the unit's history records who moved in."""
    require(can(user, "party", "change"), _("You may not change parties."))
    if end and start and end < start:
        raise ValidationError({"end": [_("The end date is before the start date.")]})
    occupancy = Occupancy(party=party, unit=unit, role=role, start=start, end=end, note=note)
    occupancy.full_clean()
    occupancy.save()
    role = occupancy.get_role_display()
    _record_link(unit, user, [None, f"{party.name}（{role}）"])
    _record_link(party, user, [None, f"{unit.label}（{role}）"])
    return occupancy


@transaction.atomic
def do_end_occupancy(user, occupancy: Occupancy, end) -> Occupancy:
    require(can(user, "party", "change"), _("You may not change parties."))
    if end < occupancy.start:
        raise ValidationError({"end": [_("The end date is before the start date.")]})
    occupancy.end = end
    occupancy.save(update_fields=["end", "updated_at"])
    label = f"{occupancy.party.name}（{occupancy.get_role_display()}）"
    _record_link(occupancy.unit, user, [label, f"{label} {_('until')} {end}"])
    _record_link(occupancy.party, user, [label, f"{label} {_('until')} {end}"])
    return occupancy


@transaction.atomic
def do_record_contact(user, party: Party, channel: str, summary: str, unit: Unit | None = None) -> ContactLog:
    require(can(user, "party", "view"), _("You may not record contacts."))
    if not (summary or "").strip():
        raise ValidationError({"summary": [_("Write what was said.")]})
    contact = ContactLog(party=party, unit=unit, staff=user, channel=channel, summary=summary.strip())
    contact.full_clean()
    contact.save()
    return contact


def get_or_create_tags(names) -> list[Tag]:
    return [Tag.objects.get_or_create(name=name.strip())[0] for name in names if name.strip()]
