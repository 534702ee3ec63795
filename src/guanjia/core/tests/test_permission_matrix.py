"""Every role × object kind × inside/outside scope, through the pages and through the API.

Inside scope a role may view everything and change what `org.permissions.PERMISSIONS` allows;
outside scope every object is invisible (404) to every role, whatever it may do inside.
"""

import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.core.models import ApiToken
from guanjia.org.choices import Role, ScopeLevel
from guanjia.org.permissions import can
from guanjia.testing import PASSWORD, make_staff

ROLES = list(Role.values)
KINDS = ["project", "building", "unit", "party"]

PAGE_DETAIL = {
    "project": "org:project_detail",
    "building": "estate:building_chart",
    "unit": "estate:unit_detail",
    "party": "estate:party_detail",
}
API_PATH = {"project": "projects", "building": "buildings", "unit": "units", "party": "parties"}
API_CHANGE = {
    "project": {"address": "权限矩阵"},
    "building": {"floors": 20},
    "unit": {"note": "权限矩阵"},
    "party": {"note": "权限矩阵"},
}


def _staff_for(world, role):
    """A member of `role` whose scope holds the 'inside' objects: project 绿色家园, or area B for butlers."""
    if role == Role.BUTLER:
        return make_staff(f"m_{role}", role, ScopeLevel.AREA, project=world.project, areas=[world.area_b])
    return make_staff(f"m_{role}", role, ScopeLevel.PROJECT, project=world.project)


def _objects(world, kind, inside):
    if inside:
        return {"project": world.project, "building": world.b3, "unit": world.unit_b, "party": world.owner_b}[kind]
    return {
        "project": world.other_project,
        "building": world.other_building,
        "unit": world.other_unit,
        "party": world.other_owner,
    }[kind]


@pytest.fixture
def matrix_client(world, client):
    def signed_in(role):
        staff = _staff_for(world, role)
        client.login(username=staff.username, password=PASSWORD)
        _token, raw = ApiToken.issue(staff, "matrix")
        return staff, client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return signed_in


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("inside", [True, False], ids=["inside", "outside"])
def test_view_page_and_api(world, matrix_client, role, kind, inside):
    _staff, client, auth = matrix_client(role)
    obj = _objects(world, kind, inside)
    expected = 200 if inside else 404
    assert client.get(reverse(PAGE_DETAIL[kind], args=[obj.pk])).status_code == expected
    assert client.get(f"/api/v1/{API_PATH[kind]}/{obj.pk}", **auth).status_code == expected


def _unit_form(unit):
    return {
        "building": unit.building_id,
        "entrance": unit.entrance_id,
        "floor": unit.floor,
        "number": unit.number,
        "kind": unit.kind,
        "status": unit.status,
        "note": "权限矩阵",
    }


def _party_form(party):
    return {
        "kind": party.kind,
        "name": party.name,
        "phone": party.phone,
        "project": party.project_id,
        "note": "权限矩阵",
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["project", "building", "unit", "party"])
@pytest.mark.parametrize("inside", [True, False], ids=["inside", "outside"])
def test_change_through_api(world, matrix_client, role, kind, inside):
    staff, client, auth = matrix_client(role)
    obj = _objects(world, kind, inside)
    response = client.patch(
        f"/api/v1/{API_PATH[kind]}/{obj.pk}",
        data=json.dumps(API_CHANGE[kind]),
        content_type="application/json",
        **auth,
    )
    if not inside:
        assert response.status_code == 404
    elif can(staff, kind, "change"):
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403
    obj.refresh_from_db()
    changed = getattr(obj, "floors", None) == 20 or "权限矩阵" in (
        getattr(obj, "note", ""),
        getattr(obj, "address", ""),
    )
    assert changed == (response.status_code == 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["unit", "party"])
@pytest.mark.parametrize("inside", [True, False], ids=["inside", "outside"])
def test_change_through_pages(world, matrix_client, role, kind, inside):
    staff, client, _auth = matrix_client(role)
    obj = _objects(world, kind, inside)
    url = reverse(f"estate:{kind}_edit", args=[obj.pk])
    data = _unit_form(obj) if kind == "unit" else _party_form(obj)
    response = client.post(url, data)
    if not inside:
        assert response.status_code == 404
    elif can(staff, kind, "change"):
        assert response.status_code == 302, response.content.decode()[:2000]
    else:
        assert response.status_code == 403
    obj.refresh_from_db()
    assert (obj.note == "权限矩阵") == (response.status_code == 302)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["unit", "party"])
def test_lists_exports_and_searches_hold_only_the_scope(world, matrix_client, role, kind):
    staff, client, auth = matrix_client(role)
    inside, outside = _objects(world, kind, True), _objects(world, kind, False)
    page = client.get(reverse(f"estate:{kind}_list")).content.decode()
    assert reverse(f"estate:{kind}_detail", args=[inside.pk]) in page
    assert reverse(f"estate:{kind}_detail", args=[outside.pk]) not in page
    ids = [row["id"] for row in client.get(f"/api/v1/{API_PATH[kind]}?limit=500", **auth).json()["items"]]
    assert inside.pk in ids and outside.pk not in ids
    export = client.get(reverse(f"estate:{kind}_export"))
    if not can(staff, "ledger", "export"):
        assert export.status_code == 403
        return
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content)), read_only=True).active
    cells = {str(cell) for row in sheet.iter_rows(values_only=True) for cell in row}
    marker = {"unit": lambda o: o.number, "party": lambda o: o.name}[kind]
    assert marker(inside) in cells and marker(outside) not in cells
    if kind == "party":
        found = [row["id"] for row in client.get(f"/api/v1/parties?q={outside.name}", **auth).json()["items"]]
        assert found == []
        assert (
            reverse("estate:party_detail", args=[outside.pk])
            not in client.get(reverse("estate:party_list"), {"q": outside.name}).content.decode()
        )
