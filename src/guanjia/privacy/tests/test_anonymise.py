"""Anonymisation (PIPL right of deletion): the person disappears, the statistics stay exactly the same."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from guanjia.cases import services as cs
from guanjia.cases.choices import Visibility
from guanjia.cases.models import Case, CaseEvent, FollowUp
from guanjia.cases.search import search_cases
from guanjia.core.models import ObjectChange
from guanjia.estate import services as es
from guanjia.estate.models import ContactLog, Occupancy, Party
from guanjia.estate.queries import search_parties
from guanjia.org.choices import Role
from guanjia.portal.models import CaseRating, PortalAccount, PortalSession, UnitBinding
from guanjia.privacy.choices import AccessAction
from guanjia.privacy.models import PartyAnonymisation, PersonalDataAccess
from guanjia.privacy.services import anonymise_party
from guanjia.reports.metrics import BREAKDOWNS, compute, hot_spots, snapshot
from guanjia.reports.queries import report_scope_for
from guanjia.reports.tests.conftest import OCTOBER
from guanjia.telephony.models import Call
from guanjia.telephony.services import parties_with_phone
from guanjia.wechat.models import WeChatFollower, WeChatMessage

from .conftest import ID_NUMBER, PHONE2, id_number_masked

PHONE = "13812345678"
REASON = "本人2025-11-20书面申请删除，编号SQ-0031"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _everything_said_about(party_pk: int) -> str:
    """Every text Guanjia holds that could name the person, as one string to search."""
    party = Party.objects.get(pk=party_pk)
    cases = Case.objects.filter(pk__in=[c.pk for c in Case.objects.all()])
    texts = [party.name, party.name_pinyin, party.phone, party.phone2, party.note, party.id_number_masked]
    texts += list(cases.values_list("caller_name", "caller_phone", "description", "search_text"))
    texts += list(CaseEvent.objects.values_list("note", "data"))
    texts += list(FollowUp.objects.values_list("note", flat=True))
    texts += list(ContactLog.objects.filter(party=party).values_list("summary", flat=True))
    texts += list(Occupancy.objects.filter(party=party).values_list("note", flat=True))
    texts += list(PortalAccount.objects.values_list("phone", flat=True))
    texts += list(UnitBinding.objects.values_list("claimed_name", "note"))
    texts += list(CaseRating.objects.values_list("comment", flat=True))
    texts += list(Call.objects.values_list("caller", "caller_raw"))
    texts += list(WeChatFollower.objects.values_list("openid", flat=True))
    texts += list(WeChatMessage.objects.values_list("content", flat=True))
    texts += [
        json.dumps([c.object_repr, c.changes], ensure_ascii=False)
        for c in ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(Party), object_id=party_pk)
    ]
    texts += [json.dumps([c.object_repr, c.changes], ensure_ascii=False) for c in ObjectChange.objects.all()]
    return json.dumps(texts, ensure_ascii=False, default=str)


def test_anonymisation_removes_the_person_everywhere(world, person):
    w, party = world, person.party
    # A phone written into a note, as staff do, goes too.
    cs.do_add_note(w.specialist, person.as_caller, note=f"回拨{PHONE2}无人接听", visibility=Visibility.INTERNAL)
    before = _everything_said_about(party.pk)
    assert all(text in before for text in ("张伟", PHONE, PHONE2, "zhangwei", "oAbCdEfGhIjKlMn0"))

    anonymise_party(party, w.admin, REASON)

    after = _everything_said_about(party.pk)
    for text in ("张伟", PHONE, PHONE2, "zhangwei", ID_NUMBER, id_number_masked(), "oAbCdEfGhIjKlMn0", "孤寡老人"):
        assert text not in after, text
    party.refresh_from_db()
    label = f"已匿名-{party.pk}"
    assert (party.name, party.phone, party.phone2, party.id_number_masked, party.id_number_digest) == (
        label,
        "",
        "",
        "",
        "",
    )
    assert not party.tags.exists()
    assert label in Case.objects.get(pk=person.as_caller.pk).caller_name
    assert Case.objects.get(pk=person.own.pk).description == f"{label}家卫生间漏水"
    account = PortalAccount.objects.get(pk=person.account.pk)
    assert not account.is_active and account.phone.startswith("已匿名-")
    assert not PortalSession.objects.filter(account=account).exists()
    assert Call.objects.get(pk=person.call.pk).caller == ""


def test_what_is_counted_is_kept(world, person):
    party = person.party
    counts = (Occupancy.objects.filter(party=party).count(), Case.objects.count(), FollowUp.objects.count())
    own = Case.objects.get(pk=person.own.pk)
    anonymise_party(party, world.admin, REASON)
    after = Case.objects.get(pk=own.pk)
    assert counts == (Occupancy.objects.filter(party=party).count(), Case.objects.count(), FollowUp.objects.count())
    for field in ("party_id", "case_type", "category_id", "status", "received_at", "closed_at", "sla_state"):
        assert getattr(after, field) == getattr(own, field), field
    assert after.resolution_due == own.resolution_due and after.handling_minutes == own.handling_minutes
    assert FollowUp.objects.get(case=own, done_at__isnull=False).outcome == "satisfied"
    assert CaseRating.objects.get(pk=person.rating.pk).stars == 4
    assert CaseEvent.objects.filter(case=own).count() == CaseEvent.objects.filter(case=own).count()


def test_searches_by_the_old_name_or_phone_find_nothing(world, person):
    user = world.admin
    party = person.party
    for query in ("张伟", "zhangwei", "zw", PHONE[-4:], PHONE, PHONE2):
        assert party in search_parties(user, query), query
    assert search_cases(Case.objects.all(), "张伟").filter(pk=person.own.pk).exists()

    anonymise_party(party, user, REASON)

    for query in ("张伟", "zhangwei", "zw", PHONE[-4:], PHONE, PHONE2):
        assert party not in search_parties(user, query), query
    assert not search_cases(Case.objects.all(), "张伟").exists()
    assert parties_with_phone(Party.objects.all(), PHONE) == []
    # The unit is still found by its room, under the placeholder.
    assert party in search_parties(user, "1-1-501")


def test_it_is_recorded_in_the_access_log_and_the_history(world, person):
    result = anonymise_party(person.party, world.admin, REASON + "（张伟 13812345678）")
    assert isinstance(result, PartyAnonymisation)
    (row,) = PersonalDataAccess.objects.filter(action=AccessAction.ANONYMISE)
    assert (row.user, row.party) == (world.admin, person.party)
    # The reason is kept, without the identifiers someone typed into it.
    assert "SQ-0031" in row.reason and "张伟" not in row.reason and PHONE not in row.reason
    change = ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(Party), object_id=person.party.pk
    ).first()
    assert change.source == "privacy" and change.changes["anonymised"][1] == row.reason
    assert result.reason == row.reason


def test_a_second_anonymisation_is_refused(world, person):
    anonymise_party(person.party, world.admin, REASON)
    with pytest.raises(ValidationError) as exc:
        anonymise_party(person.party, world.admin, REASON)
    assert "party" in exc.value.message_dict
    assert PersonalDataAccess.objects.filter(action=AccessAction.ANONYMISE).count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required_and_nothing_changes_without_one(world, person, reason):
    with pytest.raises(ValidationError) as exc:
        anonymise_party(person.party, world.admin, reason)
    assert list(exc.value.message_dict) == ["reason"]
    assert Party.objects.get(pk=person.party.pk).name == "张伟"
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMIN])
def test_only_administrators_may_anonymise(world, staff, person, role):
    with pytest.raises(PermissionDenied):
        anonymise_party(person.party, staff[role], REASON)
    assert Party.objects.get(pk=person.party.pk).name == "张伟"


def test_reports_count_the_same_before_and_after(october):
    """Every figure of every breakdown, the live snapshot and the hot spots, for 张伟 and 李娜."""
    w, now = october.world, october.now

    def figures():
        scope = report_scope_for(w.admin)
        area = report_scope_for(w.admin, area=w.area_a.pk)
        return json.dumps(
            {
                "compute": {b: compute(scope, OCTOBER, b, now=now).as_dict() for b in BREAKDOWNS},
                "area": compute(area, OCTOBER, "building", now=now).as_dict(),
                "snapshot": [s.as_dict() for s in snapshot(scope, "project", now=now)],
                "hot_spots": {
                    key: [h.as_dict() for h in spots]
                    for key, spots in hot_spots(scope, OCTOBER, "month", min_count=1, sigmas=0, now=now).items()
                },
            },
            ensure_ascii=False,
            sort_keys=True,
            default=str,
        )

    before = figures()
    assert "张伟" not in before  # the figures name no customer: only the rows behind them could change
    anonymise_party(w.owner_a, w.admin, REASON)
    anonymise_party(w.owner_b, w.admin, REASON)
    assert figures() == before


# --- the console page ------------------------------------------------------------------------------


def test_confirmation_page_asks_for_a_reason_and_a_tick(world, person, sign_in):
    client = sign_in(world.admin)
    url = reverse("privacy:anonymise", args=[person.party.pk])
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    response = client.post(url, {"reason": REASON}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Tick this box to confirm." in response.content.decode()
    response = client.post(url, {"reason": " ", "confirm": "on"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert Party.objects.get(pk=person.party.pk).name == "张伟"
    response = client.post(url, {"reason": REASON, "confirm": "on"}, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 302 and response["Location"] == reverse(
        "estate:party_detail", args=[person.party.pk]
    )
    assert PersonalDataAccess.objects.get(action=AccessAction.ANONYMISE).ip == "10.9.8.7"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"已匿名-{person.party.pk}" in page and "Anonymised on" in page
    assert url not in page
    # Posting again changes nothing.
    assert client.post(url, {"reason": REASON, "confirm": "on"}).status_code == 400
    assert PartyAnonymisation.objects.count() == 1


def test_confirmation_page_is_for_administrators_only(world, staff, person, sign_in):
    url = reverse("privacy:anonymise", args=[person.party.pk])
    assert sign_in(staff[Role.MANAGER]).get(url).status_code == 403
    assert sign_in(staff[Role.MANAGER]).post(url, {"reason": REASON, "confirm": "on"}).status_code == 403
    assert (
        url
        not in sign_in(staff[Role.MANAGER]).get(reverse("estate:party_detail", args=[person.party.pk])).content.decode()
    )
    assert (
        url in sign_in(staff[Role.ADMIN]).get(reverse("estate:party_detail", args=[person.party.pk])).content.decode()
    )


def test_anonymised_party_can_still_be_updated_like_any_party(world, person):
    anonymise_party(person.party, world.admin, REASON)
    party = es.do_update_party(world.specialist, Party.objects.get(pk=person.party.pk), {"note": "已迁出"})
    assert party.note == "已迁出"


def test_a_number_shared_with_another_party_is_left_to_them(world, person):
    """张伟's second phone is also 李娜's: her calls and caller requests with it are not his to delete."""
    es.do_update_party(world.admin, world.owner_b, {"phone2": PHONE2})
    anonymise_party(person.party, world.admin, REASON)
    caller_case = Case.objects.get(pk=person.as_caller.pk)
    assert (caller_case.caller_name, caller_case.caller_phone) == ("张先生", PHONE2)
    assert world.owner_b in search_parties(world.admin, PHONE2)
    # His own number and everything tied to it are gone all the same.
    assert Call.objects.get(pk=person.call.pk).caller == ""
    assert not search_parties(world.admin, PHONE).exists()
