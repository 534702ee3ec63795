"""The dashboard page of every level, inside and outside the reader's scope, and the login landing."""

import re

import pytest
from django.urls import reverse

from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff

URL = "/reports/"


def figure(html: str, name: str) -> str:
    """The text of the element marked data-figure="name" (the headline numbers)."""
    match = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html)
    assert match, name
    return match.group(1).strip()


def trend_row(html: str, name: str) -> list[str]:
    """The cells of one row of the trend table (received, closed, on_time_response, …)."""
    table = re.search(r'<table class="[^"]*gj-trend-table.*?</table>', html, re.S).group(0)
    row = re.search(rf'<tr data-row="{name}"><th scope="row">[^<]*</th>(.*?)</tr>', table, re.S).group(1)
    return [cell.strip() for cell in re.findall(r"<td[^>]*>([^<]*)</td>", row)]


def page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_group_dashboard_shows_the_whole_group(client, october):
    w = october.world
    html = page(client, w.admin)
    assert "gj-dashboard" in html and 'data-level="group"' in html
    # 2025-11-05: November so far holds c7's closing; October is in the trend.
    assert figure(html, "received") == "0"
    assert figure(html, "closed") == "1"
    assert figure(html, "open") == "2"
    assert figure(html, "overdue") == "1"
    assert figure(html, "follow_ups_overdue") == "1"
    received = trend_row(html, "received")
    assert received[-2:] == ["6", "0"]
    # One row per city company, with a link one level down.
    assert "华宇地产北京公司" in html and "华宇地产成都公司" in html
    assert f"?company={w.company.pk}&amp;grain=month" in html
    assert 'id="gj-chart-data"' in html and "echarts.min.js" in html


def test_company_dashboard_shows_its_projects(client, october):
    w = october.world
    html = page(client, w.manager)
    assert 'data-level="company"' in html
    assert "绿色家园" in html and "锦江花园" not in html
    received = trend_row(html, "received")
    assert received[-2:] == ["5", "0"]
    assert f"?project={w.project.pk}&amp;grain=month" in html


def test_project_dashboard_shows_its_areas_and_nothing_of_other_projects(client, october):
    w = october.world
    html = page(client, w.specialist, grain="week")
    assert 'data-level="project"' in html
    assert "锦江花园" not in html
    assert "绿色家园·A区" in html or "A区" in html
    received = trend_row(html, "received")
    # Weeks from 09-29 to 11-03: c1 (09-30), none in the holiday week, c2 (10-13), c3 (10-20),
    # c4 c5 c7 (10-27 …), none yet this week; c6 belongs to the other project.
    assert received[-6:] == ["1", "0", "1", "1", "3", "0"]


def test_area_dashboard_shows_the_butlers_buildings(client, october):
    w = october.world
    html = page(client, w.butler)
    assert 'data-level="area"' in html
    received = trend_row(html, "received")
    assert received[-2:] == ["1", "0"]
    assert "3栋" in html and "1栋" not in html


def test_the_page_speaks_chinese(client, october, chinese):
    html = page(client, october.world.manager)
    assert '<html lang="zh-hans">' in html
    # Terms the catalogue already holds: 已超时 (overdue), 分类 (category), 首次响应 (first response).
    assert "已超时" in html and "分类" in html and "首次响应" in html


@pytest.mark.parametrize("role", [r for r in Role.values])
def test_every_role_gets_a_dashboard_of_its_scope(client, world, role):
    user = make_staff(f"r_{role}", role, ScopeLevel.PROJECT, project=world.project)
    html = page(client, user, grain="week")
    assert 'data-level="project"' in html


def test_drilling_down_stays_inside_the_scope(client, october):
    w = october.world
    html = page(client, w.admin, project=w.other_project.pk)
    assert 'data-level="project"' in html and "锦江花园" in html
    assert trend_row(html, "received")[-2:] == ["1", "0"]
    client.force_login(w.specialist)
    assert client.get(URL, {"project": w.other_project.pk}).status_code == 404
    assert client.get(URL, {"company": w.other_company.pk}).status_code == 404
    client.force_login(w.butler)
    assert client.get(URL, {"area": w.area_a.pk}).status_code == 404
    assert client.get(URL, {"area": "x"}).status_code == 404


def test_the_project_switcher_narrows_a_managers_dashboard(client, october):
    w = october.world
    client.force_login(w.manager)
    client.post(reverse("switch_project"), {"project": w.sister_project.pk, "next": URL})
    html = client.get(URL).content.decode()
    assert 'data-level="project"' in html and "桂园" in html
    assert trend_row(html, "received")[-2:] == ["0", "0"]


def test_dashboard_needs_a_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_managers_land_on_their_dashboard_and_others_on_the_workbench(client, world):
    client.force_login(world.manager)
    assert client.get(reverse("reports:landing"))["Location"] == reverse("reports:dashboard")
    client.force_login(world.specialist)
    assert client.get(reverse("reports:landing"))["Location"] == reverse("home")


def test_login_without_next_goes_through_the_landing(client, world):
    from guanjia.testing import PASSWORD

    response = client.post(reverse("login"), {"username": world.manager.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("reports:dashboard")


def test_the_navigation_links_the_dashboard(client, world):
    client.force_login(world.specialist)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("reports:dashboard")}"' in html


def test_hot_spots_show_on_the_dashboard(client, world, clock):
    from datetime import date

    from guanjia.cases.choices import CaseType
    from guanjia.reports.metrics import Period

    from .conftest import at, category, record

    clock.set(at(2025, 11, 7, 12, 0))
    week = Period.of("week", date(2025, 11, 3))
    leak = category("工程质量", "渗漏", "卫生间渗漏")
    for k in (8, 6, 4, 2):
        day = week.shift("week", -k).start
        record(
            world.specialist,
            world.project,
            case_type=CaseType.REPAIR,
            units=[world.unit_a],
            category=leak,
            received_at=at(day.year, day.month, day.day, 10, 0),
        )
    for i in range(6):
        record(
            world.specialist,
            world.project,
            case_type=CaseType.REPAIR,
            units=[world.unit_a],
            category=leak,
            received_at=at(2025, 11, 4, 10, i),
        )
    html = page(client, world.specialist, grain="week")
    hot = re.search(r"gj-hot-places.*?</table>", html, re.S).group(0)
    assert "绿色家园 1栋" in hot and ">6<" in hot


def test_the_dashboard_is_cached_per_reader(client, october, django_assert_max_num_queries):
    from django.core.cache import cache

    from guanjia.cases.models import Case

    w = october.world
    assert figure(page(client, w.manager), "open") == "2"
    Case.objects.filter(pk=october.c5.pk).update(status="closed")
    # The same reader within the cache time: the same figures, without counting again.
    with django_assert_max_num_queries(12):
        assert figure(page(client, w.manager), "open") == "2"
    # Another reader of the same scope is counted for themselves.
    other = make_staff("manager2", Role.MANAGER, ScopeLevel.COMPANY, company=w.company)
    assert figure(page(client, other), "open") == "1"
    cache.clear()
    assert figure(page(client, w.manager), "open") == "1"


def test_the_cache_can_be_turned_off(client, october, settings):
    from guanjia.cases.models import Case

    settings.GUANJIA_DASHBOARD_CACHE_SECONDS = 0
    w = october.world
    assert figure(page(client, w.manager), "open") == "2"
    Case.objects.filter(pk=october.c5.pk).update(status="closed")
    assert figure(page(client, w.manager), "open") == "1"
