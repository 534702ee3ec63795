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


def _post(client, body):
    return client.post("/api/v1/projects", body, content_type="application/json")


def test_manager_creates_a_project_in_their_company_with_history(client, world):
    from guanjia.core.history import history_for

    client.force_login(world.manager)
    response = _post(client, {"company": world.company.pk, "name": "新城花园", "code": "xchy"})
    assert response.status_code == 201, response.content
    project = Project.objects.get(code="xchy")
    assert response.json()["company_name"] == world.company.name
    assert history_for(project).get().source == "api"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"company": 0, "name": "甲", "code": "a1"}, "company"),
        ({"company": "beijing", "name": "甲", "code": "a1"}, "company"),
        ({"company": None, "name": "甲", "code": "has space"}, "code"),
    ],
)
def test_bad_project_bodies_name_the_field_and_create_nothing(client, world, body, field):
    client.force_login(world.admin)
    before = Project.objects.count()
    response = _post(client, body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Project.objects.count() == before


def test_project_in_another_company_or_group_or_duplicate_code_is_refused(client, world):
    client.force_login(world.manager)
    assert _post(client, {"company": world.other_company.pk, "name": "外地", "code": "wd"}).status_code == 422
    client.force_login(world.admin)
    assert _post(client, {"company": world.group.pk, "name": "集团", "code": "jt"}).status_code == 422
    assert _post(client, {"company": world.company.pk, "name": "重复", "code": "lsjy"}).status_code == 422
    assert not Project.objects.filter(name__in=["外地", "集团", "重复"]).exists()


def test_project_update_needs_the_role_and_the_scope(client, world):
    body = {"address": "北京市朝阳区"}
    client.force_login(world.specialist)
    assert (
        client.patch(f"/api/v1/projects/{world.project.pk}", body, content_type="application/json").status_code == 403
    )
    client.force_login(world.manager)
    other = client.patch(f"/api/v1/projects/{world.other_project.pk}", body, content_type="application/json")
    assert other.status_code == 404
    ok = client.patch(f"/api/v1/projects/{world.project.pk}", body, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["address"] == "北京市朝阳区"
    world.other_project.refresh_from_db()
    assert world.other_project.address == ""


def test_project_list_pages_in_bounded_queries(client, world, django_assert_max_num_queries):
    for n in range(20):
        Project.objects.create(company=world.company, name=f"项目{n}", code=f"p{n}")
    client.force_login(world.manager)
    client.get("/api/v1/projects")
    # session, user, company scope, count, the page's ids and rows
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/projects?limit=10")
    body = response.json()
    assert body["count"] == 22
    assert len(body["items"]) == 10
    assert body["next"].endswith("limit=10&offset=10")
