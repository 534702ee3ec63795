"""What fuzzing the API found (test_api_fuzz.py), pinned as plain tests so it stays fixed whatever
the fuzzer happens to generate next time: lax input, input the databases cannot hold, nulls that
reached NOT NULL columns, and responses the OpenAPI document did not describe."""

import json

import pytest
from django.test import Client

from guanjia.core.models import ApiToken
from guanjia.estate.models import Party, Unit
from guanjia.org.models import Project

PROBLEM = "application/problem+json"


@pytest.fixture
def api(client, world):
    _, raw = ApiToken.issue(world.admin, "input")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}

    class Api:
        def get(self, path):
            return client.get(f"/api/v1{path}", **headers)

        def send(self, method, path, body):
            return getattr(client, method)(
                f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers
            )

    return Api()


def field_errors(response, status=422) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# --- input the databases cannot hold -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/units?entrance=-50463417680096962558720863109120", "entrance"),
        ("/units?offset=99999999999999999999999", "offset"),
        ("/cases?owner=9223372036854775808", "owner"),
    ],
)
def test_integers_wider_than_a_column_are_refused_on_their_field(api, world, path, field):
    assert field in field_errors(api.get(path))


def test_ids_wider_than_a_column_in_a_body_are_refused_on_their_field(api, world):
    body = {"type": "help", "channel": "hotline", "project": world.project.pk, "description": "x"}
    errors = field_errors(api.send("post", "/cases", {**body, "units": [world.unit_a.pk, -(2**110)]}))
    assert errors == {"units": "Enter a value of at least -9223372036854775807."}


def test_an_id_wider_than_a_column_in_the_path_is_just_not_found(api, world):
    assert api.get("/cases/99999999999999999999999").status_code == 404


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
def test_null_characters_in_text_are_refused_on_their_field(api, world, text):
    errors = field_errors(api.send("patch", f"/parties/{world.owner_a.pk}", {"tags": [text], "note": text}))
    assert errors == {
        "tags": "Remove the null character from this text.",
        "note": "Remove the null character from this text.",
    }
    assert field_errors(api.get("/cases?q=%00"))["q"]


def test_a_time_zone_offset_postgresql_refuses_is_read_as_utc(api, world):
    response = api.get("/cases?created_after=2025-01-01T03:49:34%2B22:35")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01"])
def test_dates_at_the_ends_of_the_calendar_are_refused(api, world, moment):
    assert field_errors(api.get(f"/cases?created_before={moment}"))["created_before"].startswith("Enter a date between")


# --- lax input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/cases?created_before=0.5", "created_before"),
        ("/cases?created_after=1700000000", "created_after"),
        ("/follow-ups?due=0", "due"),
        ("/reports/metrics?start=20240101", "start"),
    ],
)
def test_a_number_where_a_date_belongs_is_refused(api, world, path, field):
    assert field_errors(api.get(path)) == {field: "Enter a date as YYYY-MM-DD."}


def test_dates_as_dates_still_work(api, world):
    assert api.get("/cases?created_after=2025-01-01&created_before=2025-02-01T08:00:00").status_code == 200
    assert api.get("/follow-ups?due=2025-01-01").status_code == 200


def test_a_number_where_a_date_belongs_in_a_body_is_refused(api, world):
    body = {"type": "help", "channel": "hotline", "project": world.project.pk, "description": "x", "received_at": 0}
    assert field_errors(api.send("post", "/cases", body)) == {"received_at": "Enter a date as YYYY-MM-DD."}


@pytest.mark.parametrize("body", [{"floor": False}, {"building": True}], ids=["floor", "building"])
def test_true_and_false_are_not_numbers(api, world, body):
    before = Unit.objects.count()
    full = {"building": world.b1.pk, "number": "9901", **body}
    assert field_errors(api.send("post", "/units", full)) == {next(iter(body)): "Enter a whole number."}
    assert Unit.objects.count() == before


def test_a_query_parameter_given_twice_is_refused(api, world):
    assert set(field_errors(api.get("/cases?q=a&q=b"))) == {"q"}
    assert set(field_errors(api.get("/units?limit=1&limit=2"))) == {"limit"}
    assert set(field_errors(api.get("/reports/cases.xlsx?q=a&q=b"))) == {"q"}


# --- nulls in updates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "cleared"),
    [
        ("/projects/{w.project.pk}", {"address": None, "property_company": None}, ("address", "property_company")),
        ("/units/{w.unit_a.pk}", {"note": None}, ("note",)),
        ("/parties/{w.owner_a.pk}", {"note": None, "phone2": None, "gender": None}, ("note", "phone2", "gender")),
    ],
)
def test_null_clears_a_text_field_instead_of_failing_in_the_database(api, world, path, body, cleared):
    response = api.send("patch", path.format(w=world), body)
    assert response.status_code == 200, response.content
    assert all(response.json()[name] == "" for name in cleared)


def test_a_party_name_cannot_be_nulled(api, world):
    errors = field_errors(api.send("patch", f"/parties/{world.owner_a.pk}", {"name": None, "phone": None}))
    assert errors == {"name": "Enter text."}
    assert Party.objects.get(pk=world.owner_a.pk).name == "张伟"
    assert Party.objects.get(pk=world.owner_a.pk).phone == "13812345678"


# --- what the OpenAPI document says -----------------------------------------------------------------


def test_every_error_response_is_documented_as_problem_json(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == [PROBLEM], (method, path, status)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(operation["responses"]), (method, path)
            if any(p["in"] == "query" for p in operation.get("parameters", [])):
                assert "422" in operation["responses"], (method, path)


def test_a_post_to_an_unknown_address_with_a_stray_session_cookie_is_a_404_problem(world):
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "stray"
    response = client.post("/api/v1/projects/not-a-number", "{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("path", ["/api/v1/projects/%0A", "/api/v1/x%0Ay", "/api/v1/units/1%0A"])
def test_an_unknown_address_with_a_newline_is_a_404_problem(api, world, path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_nothing_was_changed_by_refused_input(api, world):
    api.send("patch", f"/projects/{world.project.pk}", {"name": "\x00"})
    assert Project.objects.get(pk=world.project.pk).name == "绿色家园"


def test_no_response_code_is_documented_twice(client, db):
    # Swagger UI refuses a document with a repeated key ("duplicated mapping key") and shows nothing.
    def refuse_repeats(pairs):
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=refuse_repeats)
