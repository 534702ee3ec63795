"""Masking by role, everywhere a phone or an ID number is shown: pages, API, exports, change history.

Every role visits every surface that shows a customer's phone. Roles without ("phone", "view_full")
never receive a whole number, in any of them; no role ever receives a whole ID number, except through
the explicit, logged reveal.
"""

import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from guanjia.estate.identity import mask_phone
from guanjia.org.choices import Role
from guanjia.org.permissions import can
from guanjia.privacy.choices import AccessAction
from guanjia.privacy.masking import history_value, phone_shower, show_phone
from guanjia.privacy.models import PersonalDataAccess
from guanjia.telephony.models import Call

from .conftest import ID_NUMBER, PHONE2, id_number_masked

PHONE = "13812345678"


def _text(response) -> str:
    """Everything a response hands out, as text: the page, the JSON, or every cell of a workbook."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        book = load_workbook(io.BytesIO(content), read_only=True)
        cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row]
        return "\n".join(cells)
    return content.decode()


def _surfaces(w, p) -> list[str]:
    """Every page, API answer and export that shows 张伟's phone (or his request's caller phone)."""
    follow_up = p.own.follow_ups.first()
    return [
        reverse("estate:party_list") + "?project=",
        reverse("estate:party_list") + "?q=5678",
        reverse("estate:party_detail", args=[p.party.pk]),
        reverse("estate:unit_detail", args=[w.unit_a.pk]),
        reverse("estate:party_export") + "?project=",
        reverse("cases:workbench") + "?view=all&project=",
        reverse("cases:case_detail", args=[p.own.pk]),
        reverse("cases:case_detail", args=[p.as_caller.pk]),
        reverse("cases:follow_up_list"),
        reverse("cases:follow_up", args=[follow_up.pk]),
        reverse("cases:lookup") + "?q=5678",
        reverse("cases:lookup") + "?q=1111",
        reverse("telephony:call_list"),
        reverse("portal_console:binding_review"),
        reverse("reports:case_export") + "?view=all&project=",
        f"/api/v1/parties?q={PHONE[-4:]}",
        f"/api/v1/parties/{p.party.pk}",
        "/api/v1/cases",
        f"/api/v1/cases/{p.as_caller.pk}",
        "/api/v1/follow-ups",
        "/api/v1/calls",
        f"/api/v1/calls/{p.call.pk}",
        "/api/v1/reports/cases.xlsx",
    ]


@pytest.mark.parametrize("role", Role.values)
def test_every_surface_masks_phones_and_id_numbers_by_role(world, staff, person, sign_in, role):
    user = staff[role]
    client = sign_in(user)
    full = can(user, "phone", "view_full")
    # 张伟 is calling this member's extension right now: the screen-pop shows him.
    Call.objects.filter(pk=person.call.pk).update(
        agent=user, state="ringing", pop_until=timezone.now() + timedelta(minutes=5)
    )
    seen_full = seen_masked = False
    for url in [*_surfaces(world, person), reverse("telephony:screen_pop")]:
        response = client.get(url)
        text = _text(response)
        assert ID_NUMBER not in text, url
        if not full:
            assert PHONE not in text, url
            assert PHONE2 not in text, url
        seen_full |= PHONE in text
        seen_masked |= mask_phone(PHONE) in text
    # The rule applies both ways: those who call owners back do get the whole number.
    assert seen_full == full
    assert seen_masked or full


@pytest.mark.parametrize("role", Role.values)
def test_party_page_shows_the_masked_id_and_offers_the_reveal_to_allowed_roles(world, staff, person, sign_in, role):
    user = staff[role]
    body = sign_in(user).get(reverse("estate:party_detail", args=[person.party.pk])).content.decode()
    assert id_number_masked() in body
    assert ID_NUMBER not in body
    reveal_url = reverse("privacy:reveal_id_number", args=[person.party.pk])
    assert (reveal_url in body) == can(user, "id_number", "reveal")


def test_change_history_masks_phones_for_roles_that_see_masked_phones(world, staff, person, sign_in):
    url = reverse("estate:party_detail", args=[person.party.pk])
    inspector = sign_in(staff[Role.INSPECTOR]).get(url).content.decode()
    # The second phone was added after registration: the history holds it, masked for the inspector.
    assert mask_phone(PHONE2) in inspector
    assert PHONE2 not in inspector
    specialist = sign_in(staff[Role.SPECIALIST]).get(url).content.decode()
    assert PHONE2 in specialist


@pytest.mark.parametrize("role", Role.values)
def test_reveal_is_an_explicit_logged_action_of_allowed_roles(world, staff, person, sign_in, role):
    user = staff[role]
    client = sign_in(user)
    before = PersonalDataAccess.objects.filter(action=AccessAction.REVEAL_ID).count()
    url = reverse("privacy:reveal_id_number", args=[person.party.pk])
    assert client.get(url).status_code == 405  # a link prefetch or a crawler never reveals anything
    response = client.post(url, REMOTE_ADDR="10.1.2.3", HTTP_HX_REQUEST="true")
    reveals = PersonalDataAccess.objects.filter(action=AccessAction.REVEAL_ID)
    if can(user, "id_number", "reveal"):
        assert response.status_code == 200
        assert ID_NUMBER in response.content.decode()
        assert response["Cache-Control"] == "private, no-store"
        row = reveals.get()
        assert (row.user, row.party, row.ip, row.project) == (user, person.party, "10.1.2.3", world.project)
    else:
        assert response.status_code == 403
        assert ID_NUMBER not in response.content.decode()
        assert reveals.count() == before == 0


def test_reveal_outside_scope_is_404_and_not_logged(world, person, sign_in):
    response = sign_in(world.outsider).post(reverse("privacy:reveal_id_number", args=[person.party.pk]))
    assert response.status_code == 404
    assert not PersonalDataAccess.objects.filter(action=AccessAction.REVEAL_ID).exists()


def test_reveal_without_an_id_number_on_file_says_so_and_logs_nothing(world, staff, sign_in):
    client = sign_in(staff[Role.SPECIALIST])
    response = client.post(reverse("privacy:reveal_id_number", args=[world.owner_b.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    with translation.override("zh-hans"):
        assert gettext("No ID number is on file.") in response.content.decode()
    assert not PersonalDataAccess.objects.filter(action=AccessAction.REVEAL_ID).exists()


def test_reveal_without_htmx_is_a_page_with_the_number(world, staff, person, sign_in):
    response = sign_in(staff[Role.MANAGER]).post(reverse("privacy:reveal_id_number", args=[person.party.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert ID_NUMBER in body and "<html" in body


def test_masking_helpers_follow_the_role_table(staff):
    specialist, inspector = staff[Role.SPECIALIST], staff[Role.INSPECTOR]
    assert show_phone(specialist, PHONE) == PHONE
    assert show_phone(inspector, PHONE) == "138****5678"
    assert phone_shower(inspector)("010-12345678") == "010-****5678"
    assert history_value(inspector, "phone2", PHONE) == "138****5678"
    assert history_value(inspector, "name", "张伟") == "张伟"
    assert history_value(specialist, "phone", PHONE) == PHONE
    assert history_value(inspector, "phone", None) is None


def test_api_party_record_never_carries_the_id_number(world, staff, person, sign_in):
    body = json.loads(sign_in(staff[Role.ADMIN]).get(f"/api/v1/parties/{person.party.pk}").content)
    assert body["id_number_masked"] == id_number_masked()
    assert ID_NUMBER not in json.dumps(body)
