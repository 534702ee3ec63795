"""Console pages of the unit ledger: scope, masking, forms, the building chart and exports."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.core.history import history_for
from guanjia.estate.choices import OccupancyRole, UnitStatus
from guanjia.estate.models import Building, ContactLog, Entrance, Occupancy, Party, Tag, Unit
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff, make_unit


def login(client, user):
    client.force_login(user)
    return client


def workbook_rows(response):
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- pages render inside scope, 404 outside ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "attr"),
    [
        ("estate:building_chart", "b3"),
        ("estate:unit_detail", "unit_b"),
        ("estate:unit_edit", "unit_b"),
        ("estate:party_detail", "owner_b"),
        ("estate:party_edit", "owner_b"),
        ("estate:occupancy_add", "owner_b"),
    ],
)
def test_object_pages_render_for_a_user_in_scope(client, world, name, attr):
    obj = getattr(world, attr)
    response = login(client, world.specialist).get(reverse(name, args=[obj.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("user", "name", "attr"),
    [
        ("specialist", "estate:unit_detail", "other_unit"),
        ("specialist", "estate:unit_edit", "other_unit"),
        ("specialist", "estate:building_chart", "other_building"),
        ("specialist", "estate:party_detail", "other_owner"),
        ("specialist", "estate:party_edit", "other_owner"),
        ("butler", "estate:unit_detail", "unit_a"),
        ("butler", "estate:building_chart", "b1"),
        ("butler", "estate:party_detail", "owner_a"),
        ("outsider", "estate:unit_detail", "unit_b"),
    ],
)
def test_objects_outside_scope_are_not_found(client, world, user, name, attr):
    response = login(client, getattr(world, user)).get(reverse(name, args=[getattr(world, attr).pk]))
    assert response.status_code == 404


def test_pages_need_a_login(client, world):
    response = client.get(reverse("estate:unit_list"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_unit_detail_shows_address_occupants_and_contacts(client, world):
    ContactLog.objects.create(party=world.owner_b, unit=world.unit_b, staff=world.specialist, summary="报修厨房漏水")
    Occupancy.objects.create(
        party=world.owner_a, unit=world.unit_b, role=OccupancyRole.TENANT, start=date(2020, 1, 1), end=date(2021, 1, 1)
    )
    page = login(client, world.specialist).get(reverse("estate:unit_detail", args=[world.unit_b.pk])).content.decode()
    assert "绿色家园 3栋2单元1502" in page
    assert "李娜" in page  # current owner
    assert "张伟" in page and "2021-01-01" in page  # past tenant
    assert "报修厨房漏水" in page


# --- lists ---------------------------------------------------------------------------------


def test_butler_unit_list_shows_only_the_buildings_of_the_area(client, world):
    page = login(client, world.butler).get(reverse("estate:unit_list")).content.decode()
    assert "3栋2单元1502" in page
    assert "1栋1单元501" not in page


def test_unit_list_filters_by_status_and_room(client, world):
    login(client, world.manager)
    page = client.get(reverse("estate:unit_list"), {"status": UnitStatus.OCCUPIED}).content.decode()
    assert "1栋1单元501" in page and "3栋2单元1502" not in page
    page = client.get(reverse("estate:unit_list"), {"q": "150"}).content.decode()
    assert "3栋2单元1502" in page and "1栋1单元501" not in page


def test_project_switcher_narrows_the_unit_list_and_an_empty_filter_widens_it(client, world):
    make_unit(Building.objects.create(project=world.sister_project, name="9栋", number=9), None, 1, "101")
    login(client, world.manager)
    client.post(reverse("switch_project"), {"project": world.sister_project.pk, "next": "/"})
    page = client.get(reverse("estate:unit_list")).content.decode()
    assert "9栋101" in page and "3栋2单元1502" not in page
    page = client.get(reverse("estate:unit_list"), {"project": ""}).content.decode()
    assert "9栋101" in page and "3栋2单元1502" in page


def test_htmx_request_gets_only_the_table_fragment(client, world):
    login(client, world.specialist)
    full = client.get(reverse("estate:unit_list")).content.decode()
    fragment = client.get(reverse("estate:unit_list"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" in full and "<html" not in fragment
    assert "<table" in fragment and "3栋2单元1502" in fragment
    assert "<form" not in fragment


def test_unit_list_pages_by_the_configured_size(client, world, settings):
    settings.GUANJIA_PAGE_SIZE = 1
    login(client, world.specialist)
    first = client.get(reverse("estate:unit_list")).content.decode()
    second = client.get(reverse("estate:unit_list"), {"page": 2}).content.decode()
    assert ("1栋1单元501" in first) != ("1栋1单元501" in second)
    assert "page=2" in first


def test_building_list_counts_units_and_area(client, world):
    Unit.objects.filter(pk=world.unit_b.pk).update(floor_area="89.50")
    page = login(client, world.butler).get(reverse("estate:building_list")).content.decode()
    assert "3栋" in page and "89.50" in page
    assert reverse("estate:building_chart", args=[world.b1.pk]) not in page


def test_party_search_finds_by_room(client, world):
    page = login(client, world.specialist).get(reverse("estate:party_list"), {"q": "3-2-1502"}).content.decode()
    assert "李娜" in page and "张伟" not in page


def test_party_list_without_query_shows_the_scope_with_units_and_tags(client, world):
    world.owner_b.tags.add(Tag.objects.create(name="重点客户", colour="red"))
    page = login(client, world.butler).get(reverse("estate:party_list")).content.decode()
    assert "李娜" in page and "3栋2单元1502" in page
    assert "bg-red-lt" in page and "重点客户" in page
    assert "张伟" not in page and "王芳" not in page


def test_party_list_filters_by_tag(client, world):
    vip = Tag.objects.create(name="VIP")
    world.owner_a.tags.add(vip)
    page = login(client, world.specialist).get(reverse("estate:party_list"), {"tag": vip.pk}).content.decode()
    assert "张伟" in page and "李娜" not in page


def test_party_list_queries_do_not_grow_with_parties(client, world, django_assert_max_num_queries, settings):
    settings.GUANJIA_PAGE_SIZE = 50
    for n in range(30):
        party = Party.objects.create(name=f"住户{n}", project=world.project, phone=f"1380000{n:04d}")
        Occupancy.objects.create(party=party, unit=world.unit_b, role=OccupancyRole.RESIDENT, start=date(2024, 1, 1))
    login(client, world.specialist)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("estate:party_list"))
    assert response.content.decode().count("3栋2单元1502") >= 30


# --- phone masking -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.HANDLER, Role.INSPECTOR])
def test_roles_that_do_not_call_owners_see_masked_phones(client, world, role):
    staff = make_staff(f"{role}-1", role, ScopeLevel.PROJECT, project=world.project)
    login(client, staff)
    listing = client.get(reverse("estate:party_list")).content.decode()
    detail = client.get(reverse("estate:party_detail", args=[world.owner_a.pk])).content.decode()
    for page in (listing, detail):
        assert "138****5678" in page
        assert "13812345678" not in page


def test_specialist_sees_full_phones(client, world):
    page = login(client, world.specialist).get(reverse("estate:party_list")).content.decode()
    assert "13812345678" in page


def test_party_detail_never_shows_the_full_id_number(client, world):
    from guanjia.estate.services import do_update_party

    do_update_party(world.specialist, world.owner_a, {"id_number": "11010519491231002X"})
    login(client, world.specialist)
    for name in ("estate:party_detail", "estate:party_edit"):
        page = client.get(reverse(name, args=[world.owner_a.pk])).content.decode()
        assert "1101**********002X" in page
        assert "11010519491231002X" not in page


# --- forms ---------------------------------------------------------------------------------


def party_post(world, **changes):
    data = {
        "kind": "person",
        "name": "张伟",
        "gender": "",
        "phone": "13812345678",
        "phone2": "",
        "project": world.project.pk,
        "note": "",
        "id_number": "",
    }
    data.update(changes)
    return data


def test_party_edit_with_a_bad_phone_shows_the_error_and_changes_nothing(client, world):
    login(client, world.specialist)
    url = reverse("estate:party_edit", args=[world.owner_a.pk])
    response = client.post(url, party_post(world, name="张伟伟", phone="12345"))
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert "is-invalid" in response.content.decode()
    world.owner_a.refresh_from_db()
    assert (world.owner_a.name, world.owner_a.phone) == ("张伟", "13812345678")
    assert not history_for(world.owner_a).exists()


def test_party_edit_with_a_bad_id_number_shows_the_error_and_changes_nothing(client, world):
    login(client, world.specialist)
    url = reverse("estate:party_edit", args=[world.owner_a.pk])
    response = client.post(url, party_post(world, name="张伟伟", id_number="110105194912310021"))
    assert response.status_code == 200
    assert response.context["form"].errors["id_number"]
    page = response.content.decode()
    assert "110105194912310021" not in page  # the ID field never echoes what was typed
    world.owner_a.refresh_from_db()
    assert world.owner_a.name == "张伟" and not world.owner_a.id_number_masked


def test_party_edit_through_the_page_appears_in_the_change_history(client, world):
    vip = Tag.objects.create(name="VIP")
    login(client, world.specialist)
    url = reverse("estate:party_edit", args=[world.owner_a.pk])
    response = client.post(url, party_post(world, phone="138 1234 0000", tags=[vip.pk]))
    assert response.status_code == 302
    world.owner_a.refresh_from_db()
    assert world.owner_a.phone == "13812340000"
    page = client.get(reverse("estate:party_detail", args=[world.owner_a.pk])).content.decode()
    assert "13812345678" in page and "13812340000" in page  # before → after
    assert "VIP" in page
    assert "specialist" in page


def test_unit_edit_through_the_page_appears_in_the_change_history(client, world):
    login(client, world.specialist)
    data = {
        "building": world.b3.pk,
        "entrance": world.e32.pk,
        "floor": 15,
        "number": "1502",
        "kind": "residence",
        "floor_area": "120.50",
        "status": UnitStatus.RENOVATING,
        "handed_over_on": "2024-06-01",
        "note": "",
    }
    response = client.post(reverse("estate:unit_edit", args=[world.unit_b.pk]), data)
    assert response.status_code == 302
    page = client.get(reverse("estate:unit_detail", args=[world.unit_b.pk])).content.decode()
    assert "Renovating" in page or "装修中" in page
    change = history_for(world.unit_b).get()
    assert change.changes["floor_area"] == [None, "120.50"]
    assert "120.50" in page and "2024-06-01" in page


def test_unit_add_with_a_duplicate_number_names_the_field(client, world):
    login(client, world.specialist)
    data = {"building": world.b3.pk, "entrance": world.e32.pk, "floor": 15, "number": "1502", "kind": "residence"}
    data["status"] = UnitStatus.UNSOLD
    response = client.post(reverse("estate:unit_add"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["number"]
    assert Unit.objects.filter(building=world.b3, number="1502").count() == 1


def test_unit_form_offers_no_building_outside_scope(client, world):
    login(client, world.butler)
    response = client.get(reverse("estate:unit_add"))
    assert response.status_code == 403  # butlers may not change units at all
    login(client, world.specialist)
    data = {"building": world.other_building.pk, "floor": 1, "number": "999", "kind": "residence"}
    data["status"] = UnitStatus.UNSOLD
    response = client.post(reverse("estate:unit_add"), data)
    assert response.context["form"].errors["building"]
    assert not Unit.objects.filter(number="999").exists()


def test_roles_without_permission_cannot_write(client, world):
    inspector = make_staff("inspector-1", Role.INSPECTOR, ScopeLevel.PROJECT, project=world.project)
    login(client, inspector)
    assert client.post(reverse("estate:party_edit", args=[world.owner_a.pk]), party_post(world)).status_code == 403
    assert client.get(reverse("estate:party_add")).status_code == 403
    response = client.post(reverse("estate:unit_edit", args=[world.unit_a.pk]), {"number": "x"})
    assert response.status_code == 403
    assert client.get(reverse("estate:unit_export")).status_code == 403
    assert client.get(reverse("estate:party_export")).status_code == 403


def test_party_add_creates_a_party_and_lands_on_its_page(client, world):
    login(client, world.specialist)
    data = party_post(world, name="赵敏", phone="13900001111", id_number="11010519491231002X")
    response = client.post(reverse("estate:party_add"), data)
    party = Party.objects.get(name="赵敏")
    assert response["Location"] == reverse("estate:party_detail", args=[party.pk])
    assert party.id_number_masked == "1101**********002X"


def test_contact_add_records_a_contact_and_empty_summary_is_refused(client, world):
    login(client, world.butler)
    url = reverse("estate:contact_add", args=[world.owner_b.pk])
    response = client.post(url, {"channel": "phone", "summary": " "})
    assert response.status_code == 400
    assert response.context["contact_form"].errors["summary"]
    assert not ContactLog.objects.exists()
    response = client.post(url, {"channel": "visit", "summary": "上门了解装修进度", "unit": world.unit_b.pk})
    assert response.status_code == 302
    contact = ContactLog.objects.get()
    assert (contact.staff, contact.unit, contact.channel) == (world.butler, world.unit_b, "visit")


def test_contact_add_is_post_only(client, world):
    login(client, world.specialist)
    assert client.get(reverse("estate:contact_add", args=[world.owner_b.pk])).status_code == 405


def test_occupancy_add_by_room_text_and_end_it(client, world):
    login(client, world.specialist)
    url = reverse("estate:occupancy_add", args=[world.owner_a.pk])
    response = client.post(
        url, {"project": world.project.pk, "room": "3-2-1502", "role": OccupancyRole.TENANT, "start": "2025-01-01"}
    )
    assert response.status_code == 302
    occupancy = Occupancy.objects.get(party=world.owner_a, unit=world.unit_b)
    assert occupancy.role == OccupancyRole.TENANT
    response = client.post(reverse("estate:occupancy_end", args=[occupancy.pk]), {"end": "2025-06-30"})
    assert response.status_code == 302
    occupancy.refresh_from_db()
    assert occupancy.end == date(2025, 6, 30)


def test_occupancy_add_with_an_unknown_room_names_the_field(client, world):
    login(client, world.specialist)
    url = reverse("estate:occupancy_add", args=[world.owner_a.pk])
    data = {"project": world.project.pk, "room": "9-9-909", "role": "owner", "start": "2025-01-01"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["room"]
    assert Occupancy.objects.filter(party=world.owner_a).count() == 1


def test_occupancy_outside_scope_cannot_be_ended(client, world):
    other = Occupancy.objects.get(unit=world.other_unit)
    login(client, world.specialist)
    response = client.post(reverse("estate:occupancy_end", args=[other.pk]), {"end": "2025-06-30"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.end is None


# --- building chart ------------------------------------------------------------------------


def test_building_chart_has_one_cell_per_unit_with_bounded_queries(client, world, django_assert_max_num_queries):
    building = Building.objects.create(project=world.project, name="8栋", number=8, floors=30)
    units = []
    for e in range(1, 4):
        entrance = Entrance.objects.create(building=building, name=f"{e}单元", number=e)
        for floor in range(1, 31):
            for position in range(1, 5):
                units.append(
                    Unit(
                        project=world.project,
                        building=building,
                        entrance=entrance,
                        floor=floor,
                        number=f"{floor}{position:02d}",
                        status=UnitStatus.OCCUPIED if position == 1 else UnitStatus.SOLD,
                    )
                )
    Unit.objects.bulk_create(units)
    first = Unit.objects.get(building=building, entrance__number=1, number="3001")
    Occupancy.objects.create(party=world.owner_a, unit=first, role=OccupancyRole.OWNER, start=date(2024, 1, 1))
    login(client, world.specialist)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("estate:building_chart", args=[building.pk]))
    page = response.content.decode()
    assert page.count('class="gj-unit ') == 360
    assert page.count('data-status="occupied"') == 90
    assert "张伟" in page
    # The top floor comes first.
    assert page.index(">3001<") < page.index(">101<")
    assert reverse("estate:unit_detail", args=[first.pk]) in page


def test_building_chart_legend_counts_statuses(client, world):
    page = login(client, world.specialist).get(reverse("estate:building_chart", args=[world.b3.pk])).content.decode()
    assert 'class="gj-unit bg-teal-lt"' in page  # handed over


# --- exports -------------------------------------------------------------------------------


def test_unit_export_rows_match_the_filtered_list(client, world):
    login(client, world.manager)
    response = client.get(reverse("estate:unit_export"), {"project": world.project.pk, "status": UnitStatus.OCCUPIED})
    assert response.status_code == 200
    rows = workbook_rows(response)
    assert len(rows) == 2  # header + 1
    assert rows[1][0] == "绿色家园" and rows[1][5] == "1栋1单元501"


def test_butler_unit_export_holds_only_the_area(client, world):
    rows = workbook_rows(login(client, world.butler).get(reverse("estate:unit_export")))
    assert [row[5] for row in rows[1:]] == ["3栋2单元1502"]


def test_party_export_masks_phones_by_role_and_always_masks_id_numbers(client, world):
    from guanjia.estate.services import do_update_party

    do_update_party(world.specialist, world.owner_b, {"id_number": "11010519491231002X"})
    rows = workbook_rows(login(client, world.specialist).get(reverse("estate:party_export"), {"q": "李娜"}))
    assert len(rows) == 2
    flat = [str(cell) for cell in rows[1]]
    assert "13987651502" in flat
    assert "1101**********002X" in flat and "11010519491231002X" not in flat
    assert "绿色家园 3栋2单元1502（Owner）" in flat or "绿色家园 3栋2单元1502（业主）" in flat


def test_building_export_lists_the_buildings_in_scope(client, world):
    rows = workbook_rows(login(client, world.butler).get(reverse("estate:building_export")))
    assert [row[1] for row in rows[1:]] == ["3栋"]
