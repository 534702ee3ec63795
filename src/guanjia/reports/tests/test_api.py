"""GET /api/v1/reports/metrics: the same figures as the dashboards, scoped, with field-named errors."""

import pytest
from django.test import Client

from guanjia.core.models import ApiToken

PROBLEM = "application/problem+json"
URL = "/api/v1/reports/metrics"
OCTOBER = {"start": "2025-10-01", "end": "2025-11-01"}


@pytest.fixture
def get(client: Client):
    def as_user(user, **params):
        _, raw = ApiToken.issue(user, "test")
        return client.get(URL, params, headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})

    return as_user


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


def test_metrics_of_a_period_by_project(get, october):
    body = get(october.world.admin, **OCTOBER, breakdown="project").json()
    assert body["period"] == {"start": "2025-10-01", "end": "2025-11-01"}
    assert body["scope"]["level"] == "group"
    total = body["total"]
    assert (total["received"], total["closed"]) == (6, 4)
    assert total["closing_rate"] == {"numerator": 3, "denominator": 6, "rate": 0.5}
    assert total["on_time"]["follow_up"] == {"numerator": 3, "denominator": 5, "rate": 0.6}
    assert total["handling"] == {"cases": 4, "avg_hours": 17.0, "p90_hours": 34.0}
    assert total["satisfaction"]["rate"] == 0.6667
    assert total["complaints_per_100_households"] == 66.67
    assert {g["label"]: g["received"] for g in body["groups"]} == {"绿色家园": 5, "锦江花园": 1}
    assert body["top_categories"][0]["label"] == "公共秩序 / 噪音"


def test_a_project_specialist_gets_only_their_project(get, october):
    w = october.world
    body = get(w.specialist, **OCTOBER, breakdown="project").json()
    assert body["total"]["received"] == 5
    assert [g["label"] for g in body["groups"]] == ["绿色家园"]
    assert "锦江花园" not in str(body)
    error = problem_of(get(w.specialist, **OCTOBER, project=w.other_project.pk), 422)
    assert [e["field"] for e in error["errors"]] == ["project"]
    error = problem_of(get(w.specialist, **OCTOBER, company=w.other_company.pk), 422)
    assert [e["field"] for e in error["errors"]] == ["company"]


def test_time_breakdown_lists_every_bucket(get, october):
    body = get(october.world.admin, **OCTOBER, breakdown="week", top=0).json()
    assert [(g["key"], g["received"]) for g in body["groups"]] == [
        ("2025-10-01", 0),
        ("2025-10-06", 0),
        ("2025-10-13", 2),
        ("2025-10-20", 1),
        ("2025-10-27", 3),
    ]
    assert body["top_categories"] == []


def test_without_a_period_it_is_this_month(get, october):
    body = get(october.world.admin).json()
    assert body["period"] == {"start": "2025-11-01", "end": "2025-12-01"}
    assert body["total"]["closed"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"breakdown": "galaxy"}, "breakdown"),
        ({"start": "2025-13-01"}, "start"),
        ({"start": "2025-10-01", "end": "yesterday"}, "end"),
        ({"start": "2025-10-01", "end": "2025-10-01"}, "end"),
        ({"start": "2025-10-02", "end": "2025-10-01"}, "end"),
        ({"end": "2025-10-01"}, "start"),
        ({"start": "2000-01-01", "end": "2025-10-01"}, "end"),
        ({"start": "2024-01-01", "end": "2025-10-01", "breakdown": "day"}, "breakdown"),
        ({"top": "-1"}, "top"),
        ({"project": "abc"}, "project"),
    ],
)
def test_a_bad_period_or_breakdown_is_a_422_naming_the_field(get, world, params, field):
    error = problem_of(get(world.admin, **params), 422)
    assert field in [e["field"] for e in error["errors"]]
    assert field in error["detail"]


def test_only_one_narrowing_at_a_time(get, world):
    error = problem_of(get(world.admin, project=world.project.pk, company=world.company.pk), 422)
    assert {e["field"] for e in error["errors"]} == {"project", "company"}


def test_metrics_need_authentication(client, db):
    assert problem_of(client.get(URL), 401)["status"] == 401
