"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against the live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to set
# up data are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GUANJIA_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("GUANJIA_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-results"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/setup.sh --test")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def watch_console(page):
    """Keep what the browser reports on `page` in `page.console_problems`: console errors and
    warnings (Content-Security-Policy violations among them) and uncaught exceptions."""
    page.console_problems = []

    def on_console(message):
        if message.type in ("error", "warning"):
            page.console_problems.append(f"{message.type}: {message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.console_problems.append(f"pageerror: {error}"))
    return page


def csp_violations(page) -> list[str]:
    """What the Content-Security-Policy refused on `page`, and Alpine expressions its CSP build could not run."""
    return [p for p in page.console_problems if "Content Security Policy" in p or "CSP" in p]


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = watch_console(context.new_page())
    page.set_default_timeout(15000)
    yield page
    context.close()
    # Every console flow doubles as a check of the security policy (docs/security.md).
    assert not csp_violations(page), csp_violations(page)


@pytest.fixture
def login(page, live_server):
    """Sign in through the login form as the given staff member."""
    from guanjia.testing import PASSWORD

    def _login(user):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return _login


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
