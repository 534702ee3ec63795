"""The whole life of a leak, through the console: hotline intake, dispatch to engineering, the handler's
report, closing, and a dissatisfied follow-up call that reopens the request."""

import re

import pytest

from guanjia.cases.models import Case, Category
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def status_of(page) -> str:
    return page.locator("#case-status").get_attribute("data-status")


def switch_user(page, login, user):
    page.context.clear_cookies()
    login(user)


def test_leak_from_hotline_to_reopened_after_a_dissatisfied_follow_up(page, live_server, world, login):
    handler = make_staff("gongcheng", Role.HANDLER, ScopeLevel.PROJECT, project=world.project, department=world.dept)
    leak = Category.objects.get(name="卫生间渗漏")

    # The hotline agent finds the caller by the last four digits of her phone and records the leak.
    login(world.specialist)
    page.goto(f"{live_server.url}/cases/new/")
    lookup = page.locator("#id_lookup")
    assert lookup.evaluate("el => el === document.activeElement")
    lookup.fill("1502")
    page.locator("#lookup-results [data-party-row]").first.wait_for()
    assert "李娜" in page.locator("#lookup-results").inner_text()
    screenshot(page, "case-flow-1-lookup")
    lookup.press("Enter")
    page.locator(".gj-picked").wait_for(state="visible")
    assert "3栋2单元1502" in page.locator(".gj-picked").inner_text()
    page.select_option("#id_case_type", "repair")
    page.select_option("#id_category", str(leak.pk))
    page.fill("#id_description", "卫生间漏水，楼下天花板有水渍")
    screenshot(page, "case-flow-2-form")
    page.locator("#case-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    assert (case.party, case.owner, status_of(page)) == (world.owner_b, world.specialist, "recorded")
    assert "3栋2单元1502" in page.content()
    screenshot(page, "case-flow-3-recorded")

    # … and dispatches it to the engineering department.
    page.select_option("#form-dispatch select[name=department]", str(world.dept.pk))
    page.locator("#form-dispatch button[type=submit]").click()
    page.wait_for_load_state()
    assert status_of(page) == "dispatched"
    assert "工程部" in page.locator("#case-handler").inner_text()
    page.goto(f"{live_server.url}/cases/?view=all")
    assert page.locator(f"tr[data-case='{case.number}']").is_visible()
    screenshot(page, "case-flow-3b-workbench")

    # The engineering handler finds it in the team queue, starts and reports the work.
    switch_user(page, login, handler)
    page.goto(f"{live_server.url}/cases/?view=team")
    screenshot(page, "case-flow-4-handler-queue")
    page.locator(f"tr[data-case='{case.number}'] a").first.click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert page.locator("[data-action=close]").count() == 0
    page.locator("button[data-action=start]").click()
    page.wait_for_load_state()
    assert status_of(page) == "in_progress"
    page.locator("summary[data-action=submit]").click()
    page.fill("#id_submit_note", "已更换卫生间防水层，闭水试验48小时无渗漏")
    page.locator("#form-submit button[type=submit]").click()
    page.wait_for_load_state()
    assert status_of(page) == "awaiting_acceptance"
    screenshot(page, "case-flow-5-submitted")

    # The specialist (first-contact owner) closes it.
    switch_user(page, login, world.specialist)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert "闭水试验" in page.locator(".gj-timeline").inner_text()
    page.locator("summary[data-action=close]").click()
    page.fill("#form-close textarea[name=note]", "已维修完毕，请业主检查")
    page.locator("#form-close button[type=submit]").click()
    page.wait_for_load_state()
    assert status_of(page) == "closed"
    screenshot(page, "case-flow-6-closed")

    # The follow-up call: the owner is not satisfied, with a reason; the request reopens.
    page.goto(f"{live_server.url}/cases/follow-ups/")
    page.locator(f"tr[data-case='{case.number}'] a.btn").click()
    page.wait_for_url(re.compile(r"/cases/follow-ups/\d+/$"))
    assert "闭水试验" in page.content()
    assert "请问是李娜吗" in page.locator(".gj-phrases").inner_text()
    screenshot(page, "case-flow-7-call")
    # Without a reason "dissatisfied" is refused and nothing changes.
    page.locator("button[name=outcome][value=dissatisfied]").click()
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback").count() >= 1
    assert status_of(page) == "closed"
    page.fill("#id_note", "楼下天花板仍有水渍，业主不满意")
    page.locator("button[name=outcome][value=dissatisfied]").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert status_of(page) == "reopened"
    assert "楼下天花板仍有水渍" in page.locator(".gj-timeline").inner_text()
    screenshot(page, "case-flow-8-reopened")
    case.refresh_from_db()
    assert (case.status, case.reopened_count) == ("reopened", 1)
