"""The workbench and the navigation."""

from django.urls import reverse

from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff


def test_home_counts_what_is_in_scope(client, world):
    client.force_login(world.butler)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    context = response.context
    assert (context["project_count"], context["building_count"], context["unit_total"]) == (1, 1, 1)
    assert context["party_count"] == 1
    handed_over = next(item for item in context["legend"] if item["value"] == "handed_over")
    assert handed_over["count"] == 1
    page = response.content.decode()
    assert "B区" in page  # the butler's area
    assert 'action="/ledger/parties/"' in page and 'name="q"' in page


def test_home_follows_the_project_switcher(client, world):
    client.force_login(world.manager)
    assert client.get(reverse("home")).context["unit_total"] == 2
    client.post(reverse("switch_project"), {"project": world.sister_project.pk})
    context = client.get(reverse("home")).context
    assert (context["project_count"], context["unit_total"], context["party_count"]) == (1, 0, 0)


def test_home_needs_a_login(client, db):
    assert client.get(reverse("home")).status_code == 302


def test_navigation_links_by_role(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("home")).content.decode()
    for name in ("org:project_list", "estate:building_list", "estate:unit_list", "estate:party_list"):
        assert f'href="{reverse(name)}"' in page
    assert 'href="/api/v1/docs"' in page
    handler = make_staff("handler-1", Role.HANDLER, ScopeLevel.PROJECT, project=world.project)
    client.force_login(handler)
    page = client.get(reverse("home")).content.decode()
    assert 'href="/api/v1/docs"' not in page
    assert f'href="{reverse("estate:party_list")}"' in page
