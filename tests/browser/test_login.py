import pytest

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_signs_in_and_out(page, live_server, world, login):
    login(world.specialist)
    assert page.locator(".gj-topbar").is_visible()
    screenshot(page, "home")
    page.click(".gj-topbar .avatar")
    page.locator("form[action='/logout/'] button").click()
    page.wait_for_url(f"{live_server.url}/login/")


def test_wrong_password_is_refused(page, live_server, world):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", world.specialist.username)
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert page.locator(".alert-danger").is_visible()
    assert page.url.endswith("/login/")
