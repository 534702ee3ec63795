"""GET /healthz/ for load balancers: 200 while the database answers, 503 when it does not."""

import pytest
from django.db import connections
from django.test import Client


def test_healthy_process_answers_200_without_sign_in_or_cookies(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["queue"] == "ok"
    assert "replica" not in body  # none configured
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_unreachable_database_answers_503(client, db, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(connections["default"], "cursor", broken)
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["status"] == "error" and response.json()["database"] == "error"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get(client, db, method):
    assert getattr(client, method)("/healthz/").status_code == 405


def test_not_redirected_to_https_behind_the_load_balancer(settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
    assert Client().get("/healthz/").status_code == 200
    assert Client().get("/login/").status_code == 301
