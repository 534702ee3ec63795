"""The ledger as staff use it: the building chart, finding an owner, importing a workbook."""

import pytest

from guanjia.estate.choices import UnitStatus
from guanjia.estate.models import Party, Unit
from guanjia.estate.tests.test_importer import make_workbook
from guanjia.testing import make_unit

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_building_chart_shows_every_unit_coloured_by_status_and_opens_it(page, live_server, world, login):
    for floor in (16, 17):
        for number in ("01", "02"):
            make_unit(world.b3, world.e32, floor, f"{floor}{number}", status=UnitStatus.VACANT)
    login(world.specialist)
    page.click(".dropdown-toggle:has-text('房产台账')")
    page.click(".dropdown-item:has-text('楼栋')")
    page.click("a:has-text('3栋')")
    page.wait_for_selector(".gj-chart")
    assert page.locator(".gj-chart .gj-unit").count() == Unit.objects.filter(building=world.b3).count() == 5
    assert page.locator(".gj-chart [data-status=vacant]").count() == 4
    assert "空置" in page.locator(".gj-legend").inner_text()
    screenshot(page, "building-chart")
    page.click(".gj-chart .gj-unit:has-text('1502')")
    page.wait_for_url(f"**/ledger/units/{world.unit_b.pk}/")
    body = page.locator("body").inner_text()
    assert "3栋2单元1502" in body and "李娜" in body


@pytest.mark.parametrize("query", ["3-2-1502", "lina", "1502"])
def test_party_search_from_the_workbench_finds_the_owner(page, live_server, world, login, query):
    login(world.specialist)
    page.fill("input[name=q]", query)
    page.keyboard.press("Enter")
    page.wait_for_url("**/ledger/parties/?*")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "李娜" in rows.first.inner_text()
    rows.first.locator("a:has-text('李娜')").click()
    page.wait_for_url(f"**/ledger/parties/{world.owner_b.pk}/")
    screenshot(page, "party-detail")
    assert "3栋2单元1502" in page.locator("body").inner_text()


def test_import_with_one_bad_row_lists_the_problem_and_imports_nothing(page, live_server, world, login, tmp_path):
    good = {"楼栋": "3栋", "单元": "2单元", "房号": "1502", "姓名": "周杰", "身份": "住户", "手机": "13600001111"}
    bad = {**good, "姓名": "吴敏", "手机": "13600002222", "身份证号": "110105194912310021"}
    path = tmp_path / "业主台账.xlsx"
    path.write_bytes(make_workbook(parties=[good, bad]).getvalue())
    parties_before = Party.objects.count()

    login(world.specialist)
    page.click(".dropdown-toggle:has-text('房产台账')")
    page.click(".dropdown-item:has-text('台账导入')")
    page.select_option("select[name=project]", str(world.project.pk))
    page.set_input_files("input[name=file]", str(path))
    page.click("button[type=submit]:has-text('检查并导入')")
    problem = page.locator("table:has-text('身份证号') tbody tr").first
    problem.wait_for()
    screenshot(page, "import-problems")
    text = problem.inner_text()
    assert "业主" in text and "3" in text and "身份证号" in text and "校验位" in text
    assert Party.objects.count() == parties_before
    assert not Party.objects.filter(name="周杰").exists()
