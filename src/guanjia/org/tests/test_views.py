"""Project pages: counts by the database, inside the user's scope."""

from django.urls import reverse

from guanjia.estate.choices import UnitStatus
from guanjia.estate.models import Unit
from guanjia.testing import make_unit


def test_project_list_shows_counts_and_handover_rate(client, world):
    # 绿色家园: 501 occupied, 1502 handed over, plus one sold and one unsold unit.
    make_unit(world.b3, world.e32, 16, "1602", status=UnitStatus.SOLD)
    make_unit(world.b3, world.e32, 17, "1702", status=UnitStatus.UNSOLD)
    client.force_login(world.manager)
    response = client.get(reverse("org:project_list"))
    assert response.status_code == 200
    projects = {p.name: p for p in response.context["projects"]}
    assert set(projects) == {"绿色家园", "桂园"}
    green = projects["绿色家园"]
    assert (green.building_count, green.unit_count, green.sold_count, green.handed_over_count) == (2, 4, 3, 2)
    assert round(green.handover_rate, 1) == 66.7
    assert projects["桂园"].handover_rate is None
    assert "66.7%" in response.content.decode()


def test_butler_counts_only_the_units_of_the_area(client, world):
    client.force_login(world.butler)
    projects = client.get(reverse("org:project_list")).context["projects"]
    assert [(p.name, p.building_count, p.unit_count) for p in projects] == [("绿色家园", 1, 1)]


def test_project_detail_lists_buildings_areas_butlers_and_departments(client, world):
    Unit.objects.filter(pk=world.unit_b.pk).update(floor_area="100.00")
    client.force_login(world.specialist)
    page = client.get(reverse("org:project_detail", args=[world.project.pk])).content.decode()
    for text in ("1栋", "3栋", "A区", "B区", "butler", "工程部", "100.00"):
        assert text in page


def test_project_outside_scope_is_not_found(client, world):
    client.force_login(world.specialist)
    assert client.get(reverse("org:project_detail", args=[world.other_project.pk])).status_code == 404
    client.force_login(world.outsider)
    projects = client.get(reverse("org:project_list")).context["projects"]
    assert [p.name for p in projects] == ["锦江花园"]
