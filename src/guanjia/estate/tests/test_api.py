"""REST API of the unit ledger, through the HTTP client: scope, permissions, bad input, history."""

from datetime import date
from decimal import Decimal

import pytest

from guanjia.core.history import history_for
from guanjia.core.models import ApiToken, ObjectChange
from guanjia.estate.choices import OccupancyRole, UnitKind, UnitStatus
from guanjia.estate.models import Building, Entrance, Occupancy, Party, Tag, Unit
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff, make_unit

PROBLEM = "application/problem+json"


@pytest.fixture
def api(client):
    """A client that logs in as a user: `api(world.specialist).get(...)`."""

    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def post(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


def patch(client, url, data, **extra):
    return client.patch(url, data, content_type="application/json", **extra)


def errors_of(response, status=422) -> dict[str, str]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def inspector(world):
    """A role that sees the ledger but may neither change it nor see whole phone numbers."""
    return make_staff("inspector", Role.INSPECTOR, ScopeLevel.PROJECT, project=world.project)


# --- buildings ---------------------------------------------------------------------------


def test_building_list_is_scoped_and_shows_entrances(api, world):
    response = api(world.specialist).get("/api/v1/buildings")
    assert ids(response) == [world.b1.pk, world.b3.pk]
    first = response.json()["items"][0]
    assert first["project_name"] == "绿色家园"
    assert first["area_name"] == "A区"
    assert first["entrances"] == [{"id": world.e1.pk, "name": "1单元", "number": 1}]
    assert ids(api(world.butler).get("/api/v1/buildings")) == [world.b3.pk]


def test_building_list_filters_by_project_and_area(api, world):
    client = api(world.admin)
    assert ids(client.get(f"/api/v1/buildings?project={world.other_project.pk}")) == [world.other_building.pk]
    assert ids(client.get(f"/api/v1/buildings?area={world.area_b.pk}")) == [world.b3.pk]


@pytest.mark.parametrize(("user", "building"), [("specialist", "other_building"), ("butler", "b1")])
def test_building_outside_scope_is_404(api, world, user, building):
    response = api(getattr(world, user)).get(f"/api/v1/buildings/{getattr(world, building).pk}")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_manager_creates_a_building_with_entrances_and_history(api, world):
    response = post(
        api(world.manager),
        "/api/v1/buildings",
        {
            "project": world.project.pk,
            "name": "5栋",
            "number": 5,
            "floors": 26,
            "area": world.area_a.pk,
            "entrances": 2,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [e["name"] for e in body["entrances"]] == ["1单元", "2单元"]
    assert body["area_id"] == world.area_a.pk
    building = Building.objects.get(pk=body["id"])
    assert history_for(building).get().source == "api"


def test_role_without_building_permission_gets_403_and_nothing_is_created(api, world):
    response = post(api(world.specialist), "/api/v1/buildings", {"project": world.project.pk, "name": "5栋"})
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert not Building.objects.filter(name="5栋").exists()


def test_building_in_a_project_outside_scope_is_refused_naming_project(api, world):
    response = post(api(world.manager), "/api/v1/buildings", {"project": world.other_project.pk, "name": "5栋"})
    assert "project" in errors_of(response)
    assert not Building.objects.filter(name="5栋").exists()


def test_building_cannot_join_an_area_of_another_project(api, world):
    response = post(
        api(world.manager),
        "/api/v1/buildings",
        {"project": world.sister_project.pk, "name": "5栋", "area": world.area_a.pk},
    )
    assert "area" in errors_of(response)
    assert not Building.objects.filter(name="5栋").exists()


def test_manager_updates_a_building(api, world):
    response = patch(api(world.manager), f"/api/v1/buildings/{world.b1.pk}", {"floors": 20, "area": None})
    assert response.status_code == 200, response.content
    assert response.json()["floors"] == 20
    world.b1.refresh_from_db()
    assert (world.b1.floors, world.b1.area_id) == (20, None)


def test_building_update_with_a_wrong_type_names_the_field_and_changes_nothing(api, world):
    response = patch(api(world.manager), f"/api/v1/buildings/{world.b1.pk}", {"floors": "many"})
    assert set(errors_of(response)) == {"floors"}
    world.b1.refresh_from_db()
    assert world.b1.floors == 18


# --- units -------------------------------------------------------------------------------


def test_unit_list_is_scoped(api, world):
    assert ids(api(world.specialist).get("/api/v1/units")) == [world.unit_a.pk, world.unit_b.pk]
    assert ids(api(world.butler).get("/api/v1/units")) == [world.unit_b.pk]
    assert ids(api(world.outsider).get("/api/v1/units")) == [world.other_unit.pk]


def test_unit_shows_label_place_and_decimal_area(api, world):
    world.unit_b.floor_area = Decimal("89.5")
    world.unit_b.save()
    body = api(world.specialist).get(f"/api/v1/units/{world.unit_b.pk}").json()
    assert body["label"] == "3栋2单元1502"
    assert (body["building_id"], body["building_name"]) == (world.b3.pk, "3栋")
    assert (body["entrance_id"], body["entrance_name"]) == (world.e32.pk, "2单元")
    assert body["project_id"] == world.project.pk
    assert (body["status"], body["kind"]) == ("handed_over", "residence")
    assert body["floor_area"] == "89.50"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("building={b3}", ["unit_b"]),
        ("entrance={e1}", ["unit_a"]),
        ("status=occupied", ["unit_a"]),
        ("kind=shop", []),
        ("number=1502", ["unit_b"]),
        ("project={project}", ["unit_a", "unit_b"]),
        ("project={other_project}", ["other_unit"]),
    ],
)
def test_unit_list_filters(api, world, query, expected):
    values = {name: getattr(world, name).pk for name in ("b3", "e1", "project", "other_project")}
    response = api(world.admin).get("/api/v1/units?" + query.format(**values))
    assert ids(response) == [getattr(world, name).pk for name in expected]


def test_unit_filter_with_a_bad_value_names_the_parameter(api, world):
    assert set(errors_of(api(world.admin).get("/api/v1/units?status=burning&building=x"))) == {"status", "building"}


def test_unit_list_pages_with_count_and_links(api, world):
    for number in range(1, 6):
        make_unit(world.b1, world.e1, 9, f"90{number}")
    client = api(world.specialist)
    first = client.get("/api/v1/units?limit=3").json()
    assert first["count"] == 7
    assert len(first["items"]) == 3
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert second["previous"].endswith("limit=3&offset=0")
    third = client.get(second["next"]).json()
    assert third["next"] is None
    seen = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert len(seen) == len(set(seen)) == 7


def test_page_size_is_capped_at_500(api, world):
    response = api(world.specialist).get("/api/v1/units?limit=100000&offset=1")
    assert "limit=500" in response.json()["previous"]
    assert set(errors_of(api(world.specialist).get("/api/v1/units?limit=0"))) == {"limit"}


def test_unit_list_query_count_does_not_grow_with_the_page(api, world, django_assert_max_num_queries):
    for number in range(1, 41):
        make_unit(world.b3, world.e32, number % 18 + 1, f"{number:04d}")
    client = api(world.butler)
    client.get("/api/v1/units")  # warm the session
    # session, user, area scope, count, the page's ids and rows
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/units")
    assert response.json()["count"] == 41


@pytest.mark.parametrize(("user", "unit"), [("specialist", "other_unit"), ("butler", "unit_a"), ("outsider", "unit_b")])
def test_unit_outside_scope_is_404_for_read_and_write(api, world, user, unit):
    client = api(getattr(world, user))
    target = getattr(world, unit)
    assert client.get(f"/api/v1/units/{target.pk}").status_code == 404
    assert patch(client, f"/api/v1/units/{target.pk}", {"note": "x"}).status_code == 404
    assert client.get(f"/api/v1/units/{target.pk}/occupancies").status_code == 404
    target.refresh_from_db()
    assert target.note == ""


def test_specialist_creates_a_unit_with_history(api, world):
    response = post(
        api(world.specialist),
        "/api/v1/units",
        {
            "building": world.b3.pk,
            "entrance": world.e32.pk,
            "floor": 16,
            "number": "1602",
            "kind": "residence",
            "status": "sold",
            "floor_area": "120.35",
            "handed_over_on": "2025-06-30",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["label"] == "3栋2单元1602"
    assert body["floor_area"] == "120.35"
    unit = Unit.objects.get(pk=body["id"])
    assert unit.project == world.project
    assert unit.handed_over_on == date(2025, 6, 30)
    change = history_for(unit).get()
    assert (change.action, change.user, change.source) == (ObjectChange.Action.CREATE, world.specialist, "api")


def test_wrong_type_in_body_is_422_naming_floor_and_creates_nothing(api, world):
    before = Unit.objects.count()
    response = post(api(world.specialist), "/api/v1/units", {"building": world.b3.pk, "number": "1602", "floor": "abc"})
    errors = errors_of(response)
    assert set(errors) == {"floor"}
    assert response.json()["type"] == "urn:guanjia:problem:invalid-input"
    assert Unit.objects.count() == before


def test_missing_and_unknown_fields_are_named(api, world):
    errors = errors_of(post(api(world.specialist), "/api/v1/units", {"building": world.b3.pk, "room": "1602"}))
    assert set(errors) == {"number", "room"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"building": "other_building", "number": "301"}, "building"),
        ({"building": "b3", "entrance": "e1", "number": "301"}, "entrance"),
        ({"building": "b3", "entrance": "e32", "number": "1502"}, "number"),
        ({"building": "b3", "number": "301", "floor_area": "12.345"}, "floor_area"),
        ({"building": "b3", "number": "301", "status": "burning"}, "status"),
    ],
)
def test_unit_create_errors_name_the_field_and_create_nothing(api, world, data, field):
    data = {k: getattr(world, v).pk if k in {"building", "entrance"} else v for k, v in data.items()}
    before = Unit.objects.count()
    assert field in errors_of(post(api(world.specialist), "/api/v1/units", data))
    assert Unit.objects.count() == before


def test_role_without_unit_permission_gets_403(api, world):
    response = post(api(world.butler), "/api/v1/units", {"building": world.b3.pk, "number": "301"})
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    response = patch(api(world.butler), f"/api/v1/units/{world.unit_b.pk}", {"status": "vacant"})
    assert response.status_code == 403
    world.unit_b.refresh_from_db()
    assert world.unit_b.status == UnitStatus.HANDED_OVER


def test_unit_update_changes_only_what_was_sent(api, world):
    response = patch(api(world.specialist), f"/api/v1/units/{world.unit_a.pk}", {"status": "renovating"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "renovating"
    world.unit_a.refresh_from_db()
    assert (world.unit_a.status, world.unit_a.number, world.unit_a.floor) == (UnitStatus.RENOVATING, "501", 5)
    assert history_for(world.unit_a).get().changes.keys() == {"status"}


def test_unit_cannot_be_moved_into_a_building_outside_scope(api, world):
    response = patch(api(world.specialist), f"/api/v1/units/{world.unit_a.pk}", {"building": world.other_building.pk})
    assert "building" in errors_of(response)
    world.unit_a.refresh_from_db()
    assert world.unit_a.building == world.b1


# --- parties -----------------------------------------------------------------------------


def test_party_list_is_scoped(api, world):
    assert set(ids(api(world.specialist).get("/api/v1/parties"))) == {world.owner_a.pk, world.owner_b.pk}
    assert ids(api(world.butler).get("/api/v1/parties")) == [world.owner_b.pk]


def test_phone_is_whole_for_roles_that_call_back_and_masked_for_others(api, world, inspector):
    whole = api(world.specialist).get(f"/api/v1/parties/{world.owner_a.pk}").json()
    masked = api(inspector).get(f"/api/v1/parties/{world.owner_a.pk}").json()
    assert whole["phone"] == "13812345678"
    assert masked["phone"] == "138****5678"
    listed = api(inspector).get("/api/v1/parties").json()["items"]
    assert all("****" in item["phone"] for item in listed)


def test_id_number_is_accepted_but_only_shown_masked(api, world):
    response = post(
        api(world.specialist),
        "/api/v1/parties",
        {"name": "赵敏", "project": world.project.pk, "phone": "139 1234 0000", "id_number": "11010519491231002x"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "13912340000"
    assert body["id_number_masked"] == "1101**********002X"
    assert "id_number" not in body
    assert "11010519491231002X" not in response.content.decode()
    assert Party.objects.get(pk=body["id"]).id_number_digest


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=张伟", ["owner_a"]),
        ("q=zw", ["owner_a"]),
        ("q=1502", ["owner_b"]),
        ("q=3-2-1502", ["owner_b"]),
        ("tag=VIP", ["owner_b"]),
        ("project={sister_project}", []),
    ],
)
def test_party_list_filters(api, world, query, expected):
    world.owner_b.tags.add(Tag.objects.create(name="VIP"))
    response = api(world.specialist).get("/api/v1/parties?" + query.format(sister_project=world.sister_project.pk))
    assert ids(response) == [getattr(world, name).pk for name in expected]


def test_project_filter_includes_parties_living_there(api, world):
    tenant = Party.objects.create(name="租户", project=world.sister_project)
    Occupancy.objects.create(party=tenant, unit=world.unit_a, role=OccupancyRole.TENANT, start=date(2025, 1, 1))
    response = api(world.manager).get(f"/api/v1/parties?project={world.project.pk}")
    assert set(ids(response)) == {world.owner_a.pk, world.owner_b.pk, tenant.pk}


@pytest.mark.parametrize(("user", "party"), [("specialist", "other_owner"), ("butler", "owner_a")])
def test_party_outside_scope_is_404_for_read_and_write(api, world, user, party):
    client = api(getattr(world, user))
    target = getattr(world, party)
    assert client.get(f"/api/v1/parties/{target.pk}").status_code == 404
    assert patch(client, f"/api/v1/parties/{target.pk}", {"note": "x"}).status_code == 404
    assert client.get(f"/api/v1/parties/{target.pk}/occupancies").status_code == 404
    response = post(client, f"/api/v1/parties/{target.pk}/occupancies", {"unit": world.unit_b.pk})
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.note == ""


def test_party_list_query_count_does_not_grow_with_the_page(api, world, django_assert_max_num_queries):
    vip = Tag.objects.create(name="VIP")
    for n in range(30):
        party = Party.objects.create(name=f"业主{n}", project=world.project, phone=f"1380000{n:04d}")
        party.tags.add(vip)
    client = api(world.specialist)
    client.get("/api/v1/parties")
    # session, user, count, the page's ids and rows, tags
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/parties")
    assert response.json()["count"] == 32


def test_party_create_with_tags(api, world):
    Tag.objects.create(name="VIP")
    response = post(
        api(world.butler), "/api/v1/parties", {"name": "钱进", "project": world.project.pk, "tags": ["VIP"]}
    )
    assert response.status_code == 201, response.content
    assert response.json()["tags"] == ["VIP"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone2": "abc"}, "phone2"),
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"tags": ["不存在"]}, "tags"),
        ({"gender": "robot"}, "gender"),
        ({"name": ""}, "name"),
    ],
)
def test_party_create_errors_name_the_field_and_create_nothing(api, world, data, field):
    before = Party.objects.count()
    response = post(api(world.specialist), "/api/v1/parties", {"name": "钱进", "project": world.project.pk, **data})
    assert field in errors_of(response)
    assert Party.objects.count() == before


def test_party_registered_outside_scope_is_refused_naming_project(api, world):
    response = post(api(world.specialist), "/api/v1/parties", {"name": "钱进", "project": world.other_project.pk})
    assert "project" in errors_of(response)
    assert not Party.objects.filter(name="钱进").exists()


def test_party_update_records_a_change_history_row(api, world):
    response = patch(
        api(world.specialist), f"/api/v1/parties/{world.owner_a.pk}", {"phone": "13800001111", "note": "白天不在家"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "13800001111"
    change = history_for(world.owner_a).get()
    assert change.user == world.specialist
    assert change.source == "api"
    assert change.changes["phone"] == ["13812345678", "13800001111"]
    assert change.changes["note"] == ["", "白天不在家"]


@pytest.mark.parametrize(
    ("data", "field"),
    [({"phone": "0000"}, "phone"), ({"id_number": "123"}, "id_number"), ({"name": 12}, "name")],
)
def test_bad_party_update_names_the_field_and_changes_nothing(api, world, data, field):
    response = patch(api(world.specialist), f"/api/v1/parties/{world.owner_a.pk}", {"note": "改了", **data})
    assert field in errors_of(response)
    world.owner_a.refresh_from_db()
    assert (world.owner_a.phone, world.owner_a.note, world.owner_a.id_number_masked) == ("13812345678", "", "")
    assert not history_for(world.owner_a).exists()


def test_duplicate_id_number_is_refused_naming_the_field(api, world):
    client = api(world.specialist)
    assert patch(client, f"/api/v1/parties/{world.owner_a.pk}", {"id_number": "11010519491231002X"}).status_code == 200
    response = patch(client, f"/api/v1/parties/{world.owner_b.pk}", {"id_number": "11010519491231002X"})
    assert "id_number" in errors_of(response)


def test_role_without_party_permission_gets_403_and_nothing_changes(api, world, inspector):
    response = patch(api(inspector), f"/api/v1/parties/{world.owner_a.pk}", {"note": "x"})
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    world.owner_a.refresh_from_db()
    assert world.owner_a.note == ""
    assert post(api(inspector), "/api/v1/parties", {"name": "x", "project": world.project.pk}).status_code == 403


def test_errors_are_translated_for_english_requests(api, world):
    response = patch(
        api(world.specialist),
        f"/api/v1/parties/{world.owner_a.pk}",
        {"phone": "12345"},
        headers={"Accept-Language": "en"},
    )
    assert errors_of(response)["phone"] == "“12345” is not a valid mainland mobile or landline number."


# --- occupancies -------------------------------------------------------------------------


def test_party_and_unit_occupancies_are_listed(api, world):
    client = api(world.specialist)
    by_party = client.get(f"/api/v1/parties/{world.owner_b.pk}/occupancies").json()
    assert by_party["count"] == 1
    item = by_party["items"][0]
    assert (item["unit_id"], item["unit_label"], item["role"], item["is_current"]) == (
        world.unit_b.pk,
        "3栋2单元1502",
        "owner",
        True,
    )
    by_unit = client.get(f"/api/v1/units/{world.unit_b.pk}/occupancies").json()
    assert [i["party_name"] for i in by_unit["items"]] == ["李娜"]


def test_occupancies_in_units_outside_scope_are_hidden(api, world):
    Occupancy.objects.create(
        party=world.owner_b, unit=world.unit_a, role=OccupancyRole.RESIDENT, start=date(2025, 1, 1)
    )
    response = api(world.butler).get(f"/api/v1/parties/{world.owner_b.pk}/occupancies")
    assert [i["unit_id"] for i in response.json()["items"]] == [world.unit_b.pk]


def test_adding_an_occupancy_ties_party_to_unit_and_records_history(api, world):
    response = post(
        api(world.specialist),
        f"/api/v1/parties/{world.owner_a.pk}/occupancies",
        {"unit": world.unit_b.pk, "role": "tenant", "start": "2025-03-01"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["unit_label"] == "3栋2单元1502"
    occupancy = Occupancy.objects.get(pk=response.json()["id"])
    assert (occupancy.party, occupancy.unit, occupancy.role) == (world.owner_a, world.unit_b, OccupancyRole.TENANT)
    assert history_for(world.owner_a).exists()
    assert history_for(world.unit_b).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"unit": "other_unit"}, "unit"),
        ({"unit": "unit_b", "start": "2025-03-01", "end": "2025-01-01"}, "end"),
        ({"unit": "unit_b", "role": "landlord"}, "role"),
        ({"unit": "unit_b", "start": "March"}, "start"),
    ],
)
def test_bad_occupancy_names_the_field_and_adds_nothing(api, world, data, field):
    data = {k: getattr(world, v).pk if k == "unit" else v for k, v in data.items()}
    before = Occupancy.objects.count()
    response = post(api(world.specialist), f"/api/v1/parties/{world.owner_a.pk}/occupancies", data)
    assert field in errors_of(response)
    assert Occupancy.objects.count() == before


# --- tokens see what their user sees ------------------------------------------------------


def test_token_of_a_butler_is_limited_to_the_butlers_area(client, world):
    _, raw = ApiToken.issue(world.butler, "wechat")
    headers = {"Authorization": f"Bearer {raw}"}
    assert ids(client.get("/api/v1/units", headers=headers)) == [world.unit_b.pk]
    assert client.get(f"/api/v1/units/{world.unit_a.pk}", headers=headers).status_code == 404


def test_created_unit_kinds_follow_the_choices(api, world):
    response = post(
        api(world.specialist),
        "/api/v1/units",
        {"building": world.b1.pk, "number": "P-01", "kind": "parking", "floor": -1},
    )
    assert response.status_code == 201, response.content
    unit = Unit.objects.get(pk=response.json()["id"])
    assert (unit.kind, unit.floor, unit.entrance) == (UnitKind.PARKING, -1, None)
    assert Entrance.objects.filter(building=world.b1).count() == 1
