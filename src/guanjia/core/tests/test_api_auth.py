"""The REST API's door: bearer tokens, the console session with CSRF, the error format, OpenAPI."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from guanjia.core.models import ApiToken
from guanjia.estate.models import Unit
from guanjia.testing import PASSWORD

PROBLEM = "application/problem+json"


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["instance"] == response.wsgi_request.path
    assert isinstance(body["errors"], list)
    return body


# --- tokens ------------------------------------------------------------------------------


def test_token_acts_as_its_user_with_that_users_scope(client, world):
    _, raw = ApiToken.issue(world.specialist, "hotline")
    response = client.get("/api/v1/units", headers=bearer(raw))
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["items"]}
    assert ids == {world.unit_a.pk, world.unit_b.pk}


def test_token_use_is_recorded_at_most_once_a_minute(client, world):
    token, raw = ApiToken.issue(world.specialist, "hotline")
    client.get("/api/v1/units", headers=bearer(raw))
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    client.get("/api/v1/units", headers=bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == first_use

    an_hour_ago = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=an_hour_ago)
    client.get("/api/v1/units", headers=bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at > an_hour_ago


def test_recent_token_use_costs_no_write(client, world, django_assert_num_queries):
    token, raw = ApiToken.issue(world.specialist, "hotline")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    # token lookup, unit count, the page's ids and rows: nothing else
    with django_assert_num_queries(4):
        response = client.get("/api/v1/units", headers=bearer(raw))
    assert response.status_code == 200


@pytest.mark.parametrize("case", ["revoked", "expired", "garbage", "inactive user", "not bearer"])
def test_unusable_tokens_get_401_problem_details(client, world, case):
    token, raw = ApiToken.issue(world.specialist, "hotline")
    headers = bearer(raw)
    if case == "revoked":
        ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    elif case == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(days=1))
    elif case == "garbage":
        headers = bearer("gj_not-a-token")
    elif case == "inactive user":
        world.specialist.is_active = False
        world.specialist.save()
    else:
        headers = {"Authorization": f"Token {raw}"}
    response = client.get("/api/v1/units", headers=headers)
    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["type"] == "about:blank"


def test_request_without_credentials_gets_401_problem_details(client, world):
    body = assert_problem(client.get("/api/v1/parties"), 401)
    assert "Bearer" in body["detail"]


def test_a_wrong_token_is_refused_even_with_a_valid_session(client, world):
    client.force_login(world.specialist)
    assert_problem(client.get("/api/v1/units", headers=bearer("gj_wrong")), 401)


def test_token_writes_need_no_csrf_token(world):
    _, raw = ApiToken.issue(world.specialist, "hotline")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/units",
        {"building": world.b1.pk, "entrance": world.e1.pk, "floor": 6, "number": "601"},
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 201, response.content
    assert Unit.objects.filter(building=world.b1, number="601").exists()


# --- the console session -----------------------------------------------------------------


def test_session_user_reads_the_api(client, world):
    client.force_login(world.butler)
    response = client.get("/api/v1/units")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [world.unit_b.pk]


def test_session_write_without_csrf_token_is_refused_and_changes_nothing(world):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="specialist", password=PASSWORD)
    response = client.patch(f"/api/v1/units/{world.unit_a.pk}", {"note": "漏水"}, content_type="application/json")
    body = assert_problem(response, 403)
    assert body["type"] == "urn:guanjia:problem:csrf-failed"
    world.unit_a.refresh_from_db()
    assert world.unit_a.note == ""


def test_session_write_with_csrf_token_is_accepted(world):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="specialist", password=PASSWORD)
    client.get("/")  # the console page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.patch(
        f"/api/v1/units/{world.unit_a.pk}",
        {"note": "漏水"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.content
    world.unit_a.refresh_from_db()
    assert world.unit_a.note == "漏水"


# --- the error format --------------------------------------------------------------------


def test_errors_speak_the_requests_language(client, world):
    client.force_login(world.specialist)
    url = f"/api/v1/units/{world.unit_a.pk}"
    chinese = assert_problem(client.patch(url, {"floor": "abc"}, content_type="application/json"), 422)
    english = assert_problem(
        client.patch(url, {"floor": "abc"}, content_type="application/json", headers={"Accept-Language": "en"}),
        422,
    )
    assert english["title"] == "Invalid input"
    assert english["errors"] == [{"field": "floor", "message": "Enter a whole number."}]
    assert chinese["errors"][0]["field"] == "floor"
    assert chinese["errors"][0]["message"] != "Enter a whole number."


def test_unknown_api_address_is_a_404_problem(client, world):
    client.force_login(world.specialist)
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["instance"] == "/api/v1/no-such-thing"


def test_wrong_method_is_a_405_problem_listing_the_allowed_ones(client, world):
    client.force_login(world.specialist)
    response = client.delete(f"/api/v1/units/{world.unit_a.pk}")
    assert_problem(response, 405)
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}
    assert Unit.objects.filter(pk=world.unit_a.pk).exists()


def test_a_body_that_is_not_json_is_a_400_problem(client, world):
    client.force_login(world.specialist)
    assert_problem(client.post("/api/v1/units", "{not json", content_type="application/json"), 400)


# --- OpenAPI -----------------------------------------------------------------------------


def test_openapi_schema_lists_the_ledger_paths_and_both_ways_in(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    for path in (
        "/api/v1/projects",
        "/api/v1/projects/{project_id}",
        "/api/v1/buildings",
        "/api/v1/buildings/{building_id}",
        "/api/v1/units",
        "/api/v1/units/{unit_id}",
        "/api/v1/units/{unit_id}/occupancies",
        "/api/v1/parties",
        "/api/v1/parties/{party_id}",
        "/api/v1/parties/{party_id}/occupancies",
    ):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/units"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/units/{unit_id}"]) == {"get", "patch"}
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}
    assert "id_number" not in schema["components"]["schemas"]["PartyOut"]["properties"]


def test_openapi_docs_page_loads(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


# --- issuing tokens ----------------------------------------------------------------------


def test_issue_token_prints_a_working_token_once(client, world):
    out, err = StringIO(), StringIO()
    call_command("issue_token", "specialist", name="crm", days=30, stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("gj_")
    token = ApiToken.objects.get(user=world.specialist, name="crm")
    assert raw not in token.key_hash and token.prefix == raw[:8]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert client.get("/api/v1/projects", headers=bearer(raw)).status_code == 200


def test_issue_token_without_days_never_expires(world):
    out = StringIO()
    call_command("issue_token", "manager", name="bi", stdout=out, stderr=StringIO())
    assert ApiToken.objects.get(name="bi").expires_at is None


@pytest.mark.parametrize(
    ("username", "options"),
    [("nobody", {"name": "x"}), ("specialist", {"name": "  "}), ("specialist", {"name": "x", "days": 0})],
)
def test_issue_token_refuses_bad_requests_and_issues_nothing(world, username, options):
    with pytest.raises(CommandError):
        call_command("issue_token", username, stdout=StringIO(), stderr=StringIO(), **options)
    assert not ApiToken.objects.exists()
