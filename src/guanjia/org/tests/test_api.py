"""REST API of the organisation: projects, scoped like everything else."""

import pytest

from guanjia.org.models import Project


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("admin", {"project", "sister_project", "other_project"}),
        ("manager", {"project", "sister_project"}),
        ("specialist", {"project"}),
        ("butler", {"project"}),
        ("outsider", {"other_project"}),
    ],
)
def test_each_user_lists_the_projects_in_their_scope(client, world, user, expected):
    client.force_login(getattr(world, user))
    assert set(ids(client.get("/api/v1/projects"))) == {getattr(world, name).pk for name in expected}


def test_project_detail_shows_its_company(client, world):
    client.force_login(world.specialist)
    body = client.get(f"/api/v1/projects/{world.project.pk}").json()
    assert (body["name"], body["code"]) == ("绿色家园", "lsjy")
    assert (body["company_id"], body["company_name"]) == (world.company.pk, "华宇地产北京公司")


@pytest.mark.parametrize(("user", "project"), [("specialist", "sister_project"), ("manager", "other_project")])
def test_project_outside_scope_is_404(client, world, user, project):
    client.force_login(getattr(world, user))
    response = client.get(f"/api/v1/projects/{getattr(world, project).pk}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_projects_filter_by_company_and_text(client, world):
    client.force_login(world.admin)
    assert set(ids(client.get(f"/api/v1/projects?company={world.company.pk}"))) == {
        world.project.pk,
        world.sister_project.pk,
    }
    assert ids(client.get("/api/v1/projects?q=锦江")) == [world.other_project.pk]
    assert ids(client.get("/api/v1/projects?q=GY")) == [world.sister_project.pk]


def test_project_filter_with_a_bad_company_names_it(client, world):
    client.force_login(world.admin)
    response = client.get("/api/v1/projects?company=beijing")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["company"]


def test_projects_are_read_only(client, world):
    client.force_login(world.admin)
    response = client.post("/api/v1/projects", {"name": "新项目"}, content_type="application/json")
    assert response.status_code == 405
    assert not Project.objects.filter(name="新项目").exists()


def test_project_list_pages_in_bounded_queries(client, world, django_assert_max_num_queries):
    for n in range(20):
        Project.objects.create(company=world.company, name=f"项目{n}", code=f"p{n}")
    client.force_login(world.manager)
    client.get("/api/v1/projects")
    # session, user, company scope, count, page
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/projects?limit=10")
    body = response.json()
    assert body["count"] == 22
    assert len(body["items"]) == 10
    assert body["next"].endswith("limit=10&offset=10")
