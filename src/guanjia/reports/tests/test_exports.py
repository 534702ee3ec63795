"""Request lists to xlsx: the workbench's and the API's filters, scope, masked phones, permission."""

import io

import pytest
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from guanjia.cases.choices import CaseStatus, CaseType
from guanjia.core.models import ApiToken
from guanjia.org.choices import Role, ScopeLevel
from guanjia.reports.exports import case_rows, headers
from guanjia.testing import make_staff

from .conftest import record

URL = "/reports/cases.xlsx"
API = "/api/v1/reports/cases.xlsx"


def sheet_of(response) -> list[list]:
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def numbers(rows: list[list]) -> set[str]:
    return {row[0] for row in rows[1:]}


@pytest.fixture
def cases(world):
    w = world
    leak = record(w.specialist, w.project, units=[w.unit_b], party=w.owner_b, case_type=CaseType.REPAIR)
    noise = record(w.specialist, w.project, units=[w.unit_a], party=w.owner_a)
    caller = record(w.specialist, w.project, caller_phone="13500001111")
    far = record(w.outsider, w.other_project, units=[w.other_unit], party=w.other_owner)
    return {"leak": leak, "noise": noise, "caller": caller, "far": far}


@pytest.fixture
def inspector(world):
    # Group-wide, may export, but may not see whole phone numbers.
    return make_staff("inspector", Role.INSPECTOR, ScopeLevel.GROUP)


def test_workbench_export_holds_the_filtered_list(client, world, cases):
    client.force_login(world.specialist)
    rows = sheet_of(client.get(URL, {"view": "all", "case_type": CaseType.REPAIR}))
    assert rows[0] == headers()
    assert numbers(rows) == {cases["leak"].number}
    leak = rows[1]
    assert "3栋2单元1502" in leak
    assert "李娜" in leak
    # A specialist calls owners back: the whole number.
    assert "13987651502" in leak


def test_export_is_scoped_like_the_list(client, world, cases):
    client.force_login(world.specialist)
    rows = sheet_of(client.get(URL, {"view": "all"}))
    assert numbers(rows) == {cases["leak"].number, cases["noise"].number, cases["caller"].number}
    client.force_login(world.outsider)
    rows = sheet_of(client.get(URL, {"view": "all", "project": ""}))
    assert numbers(rows) == {cases["far"].number}


def test_phones_are_masked_as_in_the_list(client, world, cases, inspector):
    client.force_login(inspector)
    rows = sheet_of(client.get(URL, {"view": "all"}))
    assert len(rows) == 5
    text = " ".join(str(cell) for row in rows for cell in row)
    assert "13987651502" not in text and "13500001111" not in text
    assert "139****1502" in text and "135****1111" in text


def test_export_needs_the_export_permission(client, world, cases):
    client.force_login(world.butler)
    assert client.get(URL, {"view": "all"}).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302  # to the login page


def test_workbench_shows_the_button_only_to_those_who_may_export(client, world):
    client.force_login(world.specialist)
    html = client.get("/cases/", {"view": "all"}).content.decode()
    assert URL in html
    client.force_login(world.butler)
    html = client.get("/cases/", {"view": "all"}).content.decode()
    assert URL not in html


def test_rows_are_read_in_chunks_with_their_units(world, cases):
    from guanjia.cases.queries import cases_for

    qs = cases_for(world.admin).order_by("id")
    rows = list(case_rows(qs, world.admin, chunk_size=2))
    assert [r[0] for r in rows] == [c.number for c in sorted(cases.values(), key=lambda c: c.pk)]
    units = {r[0]: r[8] for r in rows}
    assert units[cases["leak"].number] == "3栋2单元1502"
    assert units[cases["caller"].number] == ""


def _api(client, user, **params):
    _, raw = ApiToken.issue(user, "test")
    return client.get(API, params, headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})


def test_api_export_takes_the_list_filters(client, world, cases):
    rows = sheet_of(_api(client, world.admin, type=CaseType.COMPLAINT))
    assert numbers(rows) == {cases["noise"].number, cases["caller"].number, cases["far"].number}
    rows = sheet_of(_api(client, world.specialist, status=CaseStatus.CLOSED))
    assert numbers(rows) == set()
    rows = sheet_of(_api(client, world.outsider))
    assert numbers(rows) == {cases["far"].number}


def test_api_export_refuses_without_permission_or_with_a_bad_filter(client, world, cases):
    response = _api(client, world.butler)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    response = _api(client, world.admin, status="nonsense")
    assert response.status_code == 422
    assert "status" in response.content.decode()
