"""A person's data export (PIPL right of access): everything held about the party, scoped and logged."""

import io
import json

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from guanjia.org.choices import Role
from guanjia.org.permissions import can
from guanjia.privacy.choices import AccessAction
from guanjia.privacy.models import PersonalDataAccess
from guanjia.privacy.queries import person_data

from .conftest import ID_NUMBER, PHONE2, id_number_masked


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _export(client, party, **data):
    return client.post(
        reverse("privacy:person_export", args=[party.pk]), {"format": "xlsx", **data}, HTTP_ACCEPT_LANGUAGE="en"
    )


def _sheets(response) -> dict[str, list[list]]:
    assert response.status_code == 200, response.content[:500]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def _cells(rows: list[list]) -> set:
    return {c for row in rows for c in row if c is not None}


def test_workbook_holds_everything_about_the_person(world, person, sign_in):
    sheets = _sheets(_export(sign_in(world.admin), person.party))
    party = _cells(sheets["Party"])
    assert {"张伟", "13812345678", PHONE2, id_number_masked(), "孤寡老人", "绿色家园"} <= party
    assert ID_NUMBER not in party
    assert "1栋1单元501" in _cells(sheets["Units"])
    assert "张伟来电询问停车位" in _cells(sheets["Contact log"])
    cases = _cells(sheets["Service requests"])
    assert {person.own.number, person.as_caller.number, "张伟家卫生间漏水", PHONE2} <= cases
    progress = _cells(sheets["Progress told to the customer"])
    assert "师傅下午上门，张先生请在家" in progress
    assert "内部：张伟上次投诉过物业" not in progress
    assert "张伟满意" in _cells(sheets["Follow-up calls"])
    assert "13812345678" in _cells(sheets["Owner accounts"])
    assert "我是业主张伟" in _cells(sheets["Unit bindings"])
    assert "师傅很好，张伟" in _cells(sheets["Ratings"])
    assert 95 in _cells(sheets["Calls"])
    assert "我是3栋的张伟" in _cells(sheets["WeChat messages"])
    assert "oAbC…lMn0" in _cells(sheets["WeChat followers"])
    about = _cells(sheets["About this export"])
    assert "张伟" in about and "masked" in about


def test_export_is_logged_with_its_row_count(world, person, sign_in):
    response = _export(sign_in(world.admin), person.party, full_id_number="on")
    assert response["Cache-Control"] == "private, no-store"
    assert ID_NUMBER in _cells(_sheets(response)["Party"])
    (row,) = PersonalDataAccess.objects.filter(action=AccessAction.PERSON_EXPORT)
    assert (row.user, row.party) == (world.admin, person.party)
    assert row.row_count == person_data(world.admin, person.party).row_count > 10
    assert "whole ID number" in row.description


def test_json_holds_the_same_tables(world, person, sign_in):
    response = sign_in(world.admin).post(
        reverse("privacy:person_export", args=[person.party.pk]), {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    assert document["party_id"] == person.party.pk
    tables = document["tables"]
    assert [r["number"] for r in tables["cases"]["rows"]] == [person.own.number, person.as_caller.number]
    assert tables["calls"]["rows"][0]["caller"] == "13812345678"
    assert tables["party"]["columns"] == {"field": "Item", "value": "Value"}
    assert PersonalDataAccess.objects.get(action=AccessAction.PERSON_EXPORT).description == "JSON file"


@pytest.mark.parametrize("role", Role.values)
def test_only_authorised_roles_may_export_and_a_refusal_logs_nothing(world, staff, person, sign_in, role):
    response = _export(sign_in(staff[role]), person.party)
    exported = PersonalDataAccess.objects.filter(action=AccessAction.PERSON_EXPORT).exists()
    assert (response.status_code == 200) == can(staff[role], "party", "export_data") == exported
    if response.status_code != 200:
        assert response.status_code == 403


def test_export_follows_the_readers_scope(world, person, sign_in):
    assert _export(sign_in(world.outsider), person.party).status_code == 404
    # A project-scoped specialist of 绿色家园 gets the project's data; the group admin everything.
    sheets = _sheets(_export(sign_in(world.specialist), person.party))
    assert person.own.number in _cells(sheets["Service requests"])


def test_a_bad_format_changes_nothing_and_says_why(world, person, sign_in):
    client = sign_in(world.admin)
    response = client.post(
        reverse("privacy:person_export", args=[person.party.pk]),
        {"format": "pdf"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PersonalDataAccess.objects.filter(action=AccessAction.PERSON_EXPORT).exists()


def test_get_does_not_export(world, person, sign_in):
    assert sign_in(world.admin).get(reverse("privacy:person_export", args=[person.party.pk])).status_code == 405


@pytest.mark.parametrize("role", Role.values)
def test_party_page_offers_the_export_to_authorised_roles(world, staff, person, sign_in, role):
    body = sign_in(staff[role]).get(reverse("estate:party_detail", args=[person.party.pk])).content.decode()
    offered = reverse("privacy:person_export", args=[person.party.pk]) in body
    assert offered == can(staff[role], "party", "export_data")
    assert ('name="full_id_number"' in body) == (offered and can(staff[role], "id_number", "reveal"))


def test_text_that_looks_like_a_formula_stays_text(world, person, sign_in):
    # A name or note typed as a formula must not run when the person's file is opened in Excel or WPS.
    formula = '=HYPERLINK("http://evil.example/","点这里")'
    person.party.note = formula
    person.party.save(update_fields=["note"])
    response = _export(sign_in(world.admin), person.party)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["Party"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == formula]
    assert cells and all(cell.data_type == "s" for cell in cells)
