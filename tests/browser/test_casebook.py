"""The case collection through the console: a specialist marks a closed leak as a typical case, writes
the lessons and submits it; the team lead publishes it; it appears in the collection and its booklet."""

import re

import pytest

from guanjia.cases import services as s
from guanjia.cases.choices import CaseType, Channel, FollowUpOutcome, Visibility
from guanjia.cases.models import Category
from guanjia.estate.choices import Gender
from guanjia.org.choices import Role, ScopeLevel
from guanjia.reports.models import CaseStudy
from guanjia.testing import make_staff

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def closed_leak(w):
    w.owner_b.gender = Gender.FEMALE
    w.owner_b.save(update_fields=["gender"])
    case = s.do_record_case(
        w.specialist,
        project=w.project,
        case_type=CaseType.REPAIR,
        channel=Channel.HOTLINE,
        category=Category.objects.get(name="卫生间渗漏"),
        units=[w.unit_b],
        party=w.owner_b,
        caller_name="李娜",
        description="李娜来电：卫生间漏水到楼下邻居家天花板，请尽快处理。回电 13987651502。",
        route=False,
    )
    s.do_add_note(
        w.specialist, case, note="维修师傅今天下午两点上门查看，请您在家等候。", visibility=Visibility.CUSTOMER
    )
    case.refresh_from_db()
    case = s.do_close_case(
        w.specialist, case, expected_version=case.version, note="已更换防水层，闭水试验48小时无渗漏。"
    )
    pending = case.follow_ups.get(done_at__isnull=True)
    s.do_record_follow_up(
        w.specialist, pending, expected_version=case.version, outcome=FollowUpOutcome.SATISFIED, note="满意"
    )
    return case


def test_a_typical_case_from_the_request_page_to_the_booklet(page, live_server, world, login):
    lead = make_staff("lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=world.project, display_name="周班长")
    case = closed_leak(world)

    login(world.specialist)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.locator("#actions").scroll_into_view_if_needed()
    screenshot(page, "casebook-0-request")
    page.locator("[data-action=case_study]").click()
    page.wait_for_url(re.compile(r"/reports/casebook/\d+/$"))
    study = CaseStudy.objects.get(case=case)
    assert page.locator("#id_customer_label").input_value() == "李女士"
    assert "李娜" not in page.locator("#id_background").input_value()
    page.fill("#id_lessons", "渗漏报修要当天上门，先止水、再查因；闭水试验必须做满48小时。")
    page.fill("#id_tags", "渗漏，当天办结")
    screenshot(page, "casebook-1-draft")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url(f"{live_server.url}/reports/casebook/{study.pk}/")
    assert page.locator(".gj-study-status").get_attribute("data-status") == "in_review"

    page.context.clear_cookies()
    login(lead)
    page.goto(f"{live_server.url}/reports/casebook/{study.pk}/")
    page.fill("#id_approve_comment", "内容翔实，同意收录。")
    screenshot(page, "casebook-2-review")
    page.locator("#id_approve_comment ~ button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".gj-study-status").get_attribute("data-status") == "published"
    assert "内容翔实" in page.locator(".gj-study-steps").inner_text()
    screenshot(page, "casebook-3-published")

    page.goto(f"{live_server.url}/reports/casebook/")
    assert page.locator(f"[data-study='{study.pk}']").is_visible()
    screenshot(page, "casebook-4-collection")
    href = page.locator("[data-gj-booklet]").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok and response.body().startswith(b"%PDF")
