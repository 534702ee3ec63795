"""Personal data as staff handle it: the masked ID number revealed on request (and logged), the access log."""

import pytest
from playwright.sync_api import expect

from guanjia.estate import services as es
from guanjia.estate.identity import id_check_digit
from guanjia.privacy.choices import AccessAction
from guanjia.privacy.models import PersonalDataAccess

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ID_NUMBER = "11010519800101123" + id_check_digit("11010519800101123")


def test_id_number_is_revealed_on_request_and_the_access_is_logged(page, live_server, world, login):
    party = es.do_update_party(world.admin, world.owner_a, {"id_number": ID_NUMBER, "phone2": "13600001111"})
    login(world.admin)
    page.goto(f"{live_server.url}/ledger/parties/{party.pk}/")
    card = page.locator(f"#id-number-{party.pk}")
    assert ID_NUMBER not in page.locator("body").inner_text()
    assert party.id_number_masked in card.inner_text()
    screenshot(page, "privacy-party-detail")
    card.locator("button").click()
    page.wait_for_selector(f"#id-number-{party.pk} strong")
    assert ID_NUMBER in page.locator(f"#id-number-{party.pk}").inner_text()
    assert PersonalDataAccess.objects.filter(action=AccessAction.REVEAL_ID, user=world.admin).count() == 1

    page.goto(f"{live_server.url}/privacy/access-log/?party={party.pk}")
    rows = page.locator(".gj-access-table tbody tr[data-access]")
    assert rows.count() == 2  # the page opened, the number revealed
    screenshot(page, "privacy-access-log")
    page.select_option("select[name=action]", AccessAction.REVEAL_ID)
    expect(rows).to_have_count(1)
    assert f"action={AccessAction.REVEAL_ID}" in page.url


def test_anonymisation_page_needs_a_reason_and_a_tick(page, live_server, world, login):
    login(world.admin)
    page.goto(f"{live_server.url}/privacy/parties/{world.owner_b.pk}/anonymise/")
    screenshot(page, "privacy-anonymise")
    page.fill("textarea[name=reason]", "本人书面申请，编号SQ-0001")
    page.click("button.btn-danger")
    assert page.locator(".invalid-feedback").count() == 1
    page.check("input[name=confirm]")
    page.click("button.btn-danger")
    page.wait_for_url(f"**/ledger/parties/{world.owner_b.pk}/")
    assert f"已匿名-{world.owner_b.pk}" in page.locator("body").inner_text()
    assert "李娜" not in page.locator("body").inner_text()
