"""The pages under the Content-Security-Policy: the main console, portal, admin and API-docs pages load
and run their scripts (htmx, Alpine's CSP build, ECharts) with nothing refused and no script error;
and a staff member who keeps typing a wrong password is locked out with a clear message."""

import re

import pytest

from guanjia.cases import services as cs
from guanjia.cases.choices import CaseType, Channel
from guanjia.cases.models import Category
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import PASSWORD, make_staff

from .conftest import csp_violations, screenshot
from .test_portal import sign_in as portal_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONSOLE_PAGES = [
    "/",
    "/cases/",
    "/cases/?view=all",
    "/cases/new/",
    "/cases/{case}/",
    "/cases/follow-ups/",
    "/ledger/buildings/",
    "/ledger/units/",
    "/ledger/parties/",
    "/ledger/parties/{party}/",
    "/ledger/import/",
    "/reports/",
    "/reports/periodic/",
    "/notifications/",
    "/telephony/calls/",
    "/wechat/drafts/",
    "/portal/bindings/",
    "/portal/notices/",
    "/portal/notices/new/",
    "/org/projects/",
    "/admin/",
    "/admin/security/signinlockout/",
]
PORTAL_PAGES = ["/m/", "/m/units/", "/m/requests/", "/m/requests/new/", "/m/notices/"]


def problems(page, base: str) -> list[str]:
    """Console errors, refused resources and script exceptions, except pictures from other sites
    (a WeChat photo cannot load on a machine without internet) and the favicon the browser asks for."""
    return [
        p
        for p in page.console_problems
        if "Failed to load resource" not in p or (base in p and "/favicon.ico" not in p)
    ]


def test_main_pages_run_under_the_policy_without_errors(page, live_server, world):
    admin = make_staff("root", Role.ADMIN, ScopeLevel.GROUP, is_staff=True, is_superuser=True)
    case = cs.do_record_case(
        world.specialist,
        project=world.project,
        case_type=CaseType.REPAIR,
        channel=Channel.HOTLINE,
        category=Category.objects.get(name="卫生间渗漏"),
        description="卫生间漏水",
        party=world.owner_b,
        units=[world.unit_b],
    )
    base = live_server.url
    page.goto(f"{base}/login/")
    header = page.request.get(f"{base}/login/").headers["content-security-policy"]
    assert "script-src 'self'" in header and "unsafe-eval" not in header
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    for path in CONSOLE_PAGES:
        page.goto(base + path.format(case=case.pk, party=world.owner_b.pk))
        page.wait_for_load_state("networkidle")
        assert not problems(page, base), (path, problems(page, base))

    # Alpine (CSP build) runs: the hotline lookup picks a caller, the workbench counts ticked requests.
    page.goto(f"{base}/cases/new/")
    page.fill("#id_lookup", "1502")
    page.locator("#lookup-results [data-party-row]").first.wait_for()
    page.locator("#id_lookup").press("Enter")
    page.locator(".gj-picked").wait_for(state="visible")
    assert "3栋2单元1502" in page.locator(".gj-picked").inner_text()
    assert page.locator("#case-form input[name=units]").count() == 1
    page.goto(f"{base}/cases/?view=all")
    page.locator("input[data-gj-check-all]").check()
    assert page.locator("input[name=cases]:checked").count() == 1
    # The dashboard drew its charts (ECharts, as SVG).
    page.goto(f"{base}/reports/")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-chart] svg").count() > 0
    page.locator("[data-chart=trend]").hover()  # a tooltip: HTML with style attributes
    assert not problems(page, base), problems(page, base)
    # The API docs: Swagger UI, served from this site rather than a CDN, runs. Only the policy is
    # checked here: what Swagger UI thinks of the schema is the API's own tests' business.
    page.goto(f"{base}/api/v1/docs")
    page.locator("#swagger-ui .swagger-ui").first.wait_for()
    page.wait_for_load_state("networkidle")
    assert not csp_violations(page), csp_violations(page)


def test_owner_portal_pages_run_under_the_policy(page, live_server, world):
    base = live_server.url
    header = page.request.get(f"{base}/m/sign-in/").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in header
    portal_sign_in(page, base, world.owner_b.phone)
    for path in PORTAL_PAGES:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert not problems(page, base), (path, problems(page, base))


def test_a_staff_member_locked_out_after_five_wrong_passwords(page, live_server, world):
    base = live_server.url
    for attempt in range(5):
        page.goto(f"{base}/login/")
        page.fill("#id_username", world.specialist.username)
        page.fill("#id_password", f"wrong-{attempt}")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    assert page.locator("#login-locked").is_visible()
    screenshot(page, "login-locked")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#login-locked").is_visible()
    assert re.search(r"/login/$", page.url)
    assert not problems(page, base) or all("429" in p for p in problems(page, base))
