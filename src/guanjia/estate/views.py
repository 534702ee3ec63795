"""Console pages of the unit ledger: buildings, the building chart, units and parties.

Views are thin: they read through `queries` (scoped), write through `services`, and render.
"""

import logging
from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.history import history_for
from guanjia.core.htmx import is_htmx
from guanjia.core.paging import CappedPaginator
from guanjia.org.permissions import can
from guanjia.privacy.masking import phone_shower
from guanjia.privacy.services import record_export, record_party_view

from . import services
from .choices import UNIT_STATUS_COLOURS, OccupancyRole, UnitKind, UnitStatus
from .exporter import xlsx_response
from .filters import BuildingFilterSet, PartyFilterSet, UnitFilterSet
from .forms import ContactForm, EndOccupancyForm, OccupancyForm, PartyForm, UnitForm
from .queries import (
    access_building_by_id,
    access_party_by_id,
    access_unit_by_id,
    contacts_for,
    occupancies_for,
    units_for,
)

logger = logging.getLogger(__name__)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _page(request, queryset):
    return CappedPaginator(queryset, settings.GUANJIA_PAGE_SIZE).get_page(request.GET.get("page"))


def status_legend(counts: dict[str, int]) -> list[dict]:
    return [
        {"value": value, "label": label, "colour": UNIT_STATUS_COLOURS[value], "count": counts.get(value, 0)}
        for value, label in UnitStatus.choices
    ]


# --- buildings --------------------------------------------------------------------------


@login_required
def building_list(request):
    return _list_page(request, BuildingFilterSet, "building")


def _list_page(request, filterset_class, name: str, decorate=None, **context):
    """A filtered, paginated ledger list; an htmx request gets only the table fragment."""
    filters = filterset_class(request.GET, request.user, current_project_id=request.current_project_id)
    page = _page(request, filters.qs)
    if decorate:
        for row in page:
            decorate(row)
    context.update(filters=filters, page=page, may_export=can(request.user, "ledger", "export"))
    template = f"estate/_{name}_table.html" if is_htmx(request) else f"estate/{name}_list.html"
    return render(request, template, context)


@login_required
def building_export(request):
    _require(can(request.user, "ledger", "export"))
    filters = BuildingFilterSet(request.GET, request.user, current_project_id=request.current_project_id)
    columns = [
        (_("Project"), lambda b: b.project.name),
        (_("Building"), lambda b: b.name),
        (_("Number"), lambda b: b.number),
        (_("Floors"), lambda b: b.floors),
        (_("Entrances"), lambda b: b.entrance_count),
        (_("Units"), lambda b: b.unit_count),
        (_("Floor area (m²)"), lambda b: b.total_area),
        (_("Area"), lambda b: b.area.name if b.area_id else ""),
    ]
    rows = filters.qs.iterator(chunk_size=2000)
    return xlsx_response(_export_name(_("Buildings")), _("Buildings"), columns, rows)


def _export_name(title: str) -> str:
    return f"{title}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"


def _unit_column_key(unit) -> str:
    """The position of a unit on its floor: 1502 on floor 15 → "02"; other numbers stay whole."""
    prefix = str(unit.floor)
    if unit.number.startswith(prefix) and len(unit.number) > len(prefix):
        return unit.number[len(prefix) :]
    return unit.number


@login_required
def building_chart(request, pk):
    """楼盘表: floors top-down × units, grouped by entrance, coloured by status."""
    building = access_building_by_id(request.user, pk)
    units = list(
        units_for(request.user)
        .filter(building=building)
        .only("id", "number", "floor", "status", "kind", "entrance_id", "building_id", "project_id")
    )
    owners: dict[int, list[str]] = defaultdict(list)
    current_owners = (
        occupancies_for(request.user)
        .current()
        .filter(unit__building=building, role=OccupancyRole.OWNER)
        .values_list("unit_id", "party__name")
        .order_by("start", "id")
    )
    for unit_id, name in current_owners:
        owners[unit_id].append(name)

    entrances = list(building.entrances.all())
    groups: dict[int | None, dict] = {e.pk: {"entrance": e, "columns": set()} for e in entrances}
    cells: dict[tuple, object] = {}
    counts: dict[str, int] = defaultdict(int)
    floors = set(range(1, building.floors + 1))
    # Shops and parking spaces without an entrance would add a column per space to every
    # floor; they are listed below the grid instead, grouped by kind.
    others: dict[str, list] = defaultdict(list)
    for unit in units:
        if unit.entrance_id is None and unit.kind in (UnitKind.SHOP, UnitKind.PARKING):
            unit.colour = UNIT_STATUS_COLOURS.get(unit.status, "secondary")
            unit.owner_names = "、".join(owners.get(unit.pk, []))
            others[unit.get_kind_display()].append(unit)
            counts[unit.status] += 1
            continue
        group = groups.setdefault(unit.entrance_id, {"entrance": None, "columns": set()})
        key = _unit_column_key(unit)
        group["columns"].add(key)
        unit.owner_names = "、".join(owners.get(unit.pk, []))
        unit.colour = UNIT_STATUS_COLOURS.get(unit.status, "secondary")
        cells[(unit.entrance_id, unit.floor, key)] = unit
        counts[unit.status] += 1
        floors.add(unit.floor)

    def column_sort(key: str):
        return (0, int(key), key) if key.isdigit() else (1, 0, key)

    ordered = [g for g in groups.values() if g["columns"] or g["entrance"] is not None]
    for group in ordered:
        group["columns"] = sorted(group["columns"], key=column_sort)
    rows = [
        {
            "floor": floor,
            "groups": [
                [cells.get((g["entrance"].pk if g["entrance"] else None, floor, key)) for key in g["columns"]]
                for g in ordered
            ],
        }
        for floor in sorted(floors, reverse=True)
    ]
    context = {
        "building": building,
        "groups": ordered,
        "rows": rows if cells else [],
        "others": sorted(others.items()),
        "legend": status_legend(counts),
        "unit_total": len(units),
        "may_change": can(request.user, "unit", "change"),
    }
    return render(request, "estate/building_chart.html", context)


# --- units ------------------------------------------------------------------------------


@login_required
def unit_list(request):
    def decorate(unit):
        unit.colour = UNIT_STATUS_COLOURS.get(unit.status, "secondary")

    return _list_page(request, UnitFilterSet, "unit", decorate, may_change=can(request.user, "unit", "change"))


@login_required
def unit_export(request):
    _require(can(request.user, "ledger", "export"))
    filters = UnitFilterSet(request.GET, request.user, current_project_id=request.current_project_id)
    columns = [
        (_("Project"), lambda u: u.project.name),
        (_("Building"), lambda u: u.building.name),
        (_("Entrance"), lambda u: u.entrance.name if u.entrance_id else ""),
        (_("Floor"), lambda u: u.floor),
        (_("Room number"), lambda u: u.number),
        (_("Address"), lambda u: u.label),
        (_("Kind"), lambda u: u.get_kind_display()),
        (_("Floor area (m²)"), lambda u: u.floor_area),
        (_("Status"), lambda u: u.get_status_display()),
        (_("Handover date"), lambda u: u.handed_over_on),
        (_("Note"), lambda u: u.note),
    ]
    rows = filters.qs.iterator(chunk_size=2000)
    return xlsx_response(_export_name(_("Units")), _("Units"), columns, rows)


@login_required
def unit_detail(request, pk):
    unit = access_unit_by_id(request.user, pk)
    occupancies = list(occupancies_for(request.user).filter(unit=unit).order_by("end", "-start", "id"))
    show_phone = phone_shower(request.user)
    for occupancy in occupancies:
        occupancy.phone_shown = show_phone(occupancy.party.phone)
    context = {
        "unit": unit,
        "colour": UNIT_STATUS_COLOURS.get(unit.status, "secondary"),
        "current": [o for o in occupancies if o.is_current],
        "past": [o for o in occupancies if not o.is_current],
        "contacts": contacts_for(request.user).filter(unit=unit).select_related("party")[:50],
        "may_change": can(request.user, "unit", "change"),
        "history_count": history_for(unit).count(),
    }
    return render(request, "estate/unit_detail.html", context)


def _unit_form_page(request, unit=None):
    _require(can(request.user, "unit", "change"))
    kwargs = {}
    if unit is None and request.GET.get("building"):
        kwargs["initial"] = {"building": request.GET["building"]}
    form = UnitForm(request.POST or None, user=request.user, unit=unit, **kwargs)
    return _service_form_page(
        request, form, unit, "unit", create=services.do_create_unit, update=services.do_update_unit
    )


def _service_form_page(request, form, obj, name: str, *, create, update):
    """Add or edit page of a ledger object: the service saves it, its field errors land on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            if obj is None:
                obj = create(request.user, form.service_data())
            else:
                obj = update(request.user, obj, form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(f"estate:{name}_detail", pk=obj.pk)
    return render(request, f"estate/{name}_form.html", {"form": form, name: obj})


@login_required
def unit_add(request):
    return _unit_form_page(request)


@login_required
def unit_edit(request, pk):
    return _unit_form_page(request, access_unit_by_id(request.user, pk))


# --- parties ----------------------------------------------------------------------------


@login_required
def party_list(request):
    show_phone = phone_shower(request.user)

    def decorate(party):
        party.phone_shown = show_phone(party.phone)

    return _list_page(request, PartyFilterSet, "party", decorate, may_change=can(request.user, "party", "change"))


@login_required
def party_export(request):
    _require(can(request.user, "ledger", "export"))
    filters = PartyFilterSet(request.GET, request.user, current_project_id=request.current_project_id)
    show_phone = phone_shower(request.user)

    def units(party) -> str:
        return "；".join(
            f"{o.unit.project.name} {o.unit.label}（{o.get_role_display()}）" for o in party.current_occupancies
        )

    columns = [
        (_("Name"), lambda p: p.name),
        (_("Kind"), lambda p: p.get_kind_display()),
        (_("Gender"), lambda p: p.get_gender_display() if p.gender else ""),
        (_("Phone"), lambda p: show_phone(p.phone)),
        (_("Second phone"), lambda p: show_phone(p.phone2)),
        (_("ID number"), lambda p: p.id_number_masked),
        (_("Registered at"), lambda p: p.project.name),
        (_("Units"), units),
        (_("Tags"), lambda p: "、".join(t.name for t in p.tags.all())),
    ]
    # Exports of personal data are logged (who, which filters), as PIPL asks; the log names the
    # filters only, their values (a searched name or phone) stay in the access log below.
    logger.info(
        "party export by %s (id %s), filters %s",
        request.user.username,
        request.user.pk,
        sorted(k for k, v in filters.values.items() if v not in (None, "", [])),
    )
    rows = filters.qs.iterator(chunk_size=2000)
    response = xlsx_response(_export_name(_("Parties")), _("Parties"), columns, rows)
    # ... and written to the personal-data access log (guanjia.privacy) before the file is sent.
    record_export(
        request.user,
        title=_("Parties"),
        filters=filters.values,
        row_count=response.row_count,
        request=request,
        form=filters.form,
    )
    return response


@login_required
def party_detail(request, pk):
    party = access_party_by_id(request.user, pk)
    # Personal data on the page: written to the access log (guanjia.privacy) before it is shown.
    record_party_view(request, party)
    return render(request, "estate/party_detail.html", _party_context(request, party))


def _party_context(request, party, contact_form=None) -> dict:
    occupancies = list(occupancies_for(request.user).filter(party=party).order_by("end", "-start", "id"))
    show_phone = phone_shower(request.user)
    may_change = can(request.user, "party", "change")
    return {
        "party": party,
        "phone": show_phone(party.phone),
        "phone2": show_phone(party.phone2),
        "tags": list(party.tags.all()),
        "current": [o for o in occupancies if o.is_current],
        "past": [o for o in occupancies if not o.is_current],
        "contacts": contacts_for(request.user).filter(party=party)[:50],
        "contact_form": contact_form or ContactForm(user=request.user, party=party),
        "end_form": EndOccupancyForm(),
        "may_change": may_change,
    }


def _party_form_page(request, party=None):
    _require(can(request.user, "party", "change"))
    initial = None
    if party is None and request.current_project_id:
        initial = {"project": request.current_project_id}
    kwargs = {"initial": initial} if initial else {}
    form = PartyForm(request.POST or None, user=request.user, party=party, **kwargs)
    return _service_form_page(
        request, form, party, "party", create=services.do_create_party, update=services.do_update_party
    )


@login_required
def party_add(request):
    return _party_form_page(request)


@login_required
def party_edit(request, pk):
    return _party_form_page(request, access_party_by_id(request.user, pk))


@login_required
@require_POST
def contact_add(request, pk):
    party = access_party_by_id(request.user, pk)
    form = ContactForm(request.POST, user=request.user, party=party)
    if form.is_valid():
        try:
            services.do_record_contact(
                request.user,
                party,
                form.cleaned_data["channel"],
                form.cleaned_data["summary"],
                unit=form.cleaned_data.get("unit"),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Contact recorded."))
            return redirect("estate:party_detail", pk=party.pk)
    context = _party_context(request, party, contact_form=form)
    return render(request, "estate/party_detail.html", context, status=400)


@login_required
def occupancy_add(request, pk):
    _require(can(request.user, "party", "change"))
    party = access_party_by_id(request.user, pk)
    initial = {"project": request.current_project_id or party.project_id}
    form = OccupancyForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.do_add_occupancy(
                request.user, party, data["unit"], data["role"], data["start"], data.get("end"), data.get("note", "")
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("estate:party_detail", pk=party.pk)
    return render(request, "estate/occupancy_form.html", {"form": form, "party": party})


@login_required
@require_POST
def occupancy_end(request, pk):
    _require(can(request.user, "party", "change"))
    occupancy = get_object_or_404(occupancies_for(request.user), pk=pk)
    form = EndOccupancyForm(request.POST)
    if form.is_valid():
        try:
            services.do_end_occupancy(request.user, occupancy, form.cleaned_data["end"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Enter the end date."))
    return redirect("estate:party_detail", pk=occupancy.party_id)
