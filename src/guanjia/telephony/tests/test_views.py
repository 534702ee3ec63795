"""The screen-pop, the hotline form taken during a call, and the call list, as agents and supervisors see them."""

import pytest
from django.urls import reverse

from guanjia.cases.models import Case
from guanjia.cases.services import do_record_case
from guanjia.telephony.models import Call, CallCase
from guanjia.testing import PASSWORD

from .conftest import ringing

POP = "/telephony/screen-pop/"


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    "typed", ["13812345678", "138 1234 5678", "+86 138 1234 5678", "+86-138-1234-5678", "8613812345678"]
)
def test_ringing_pops_the_callers_party_units_and_open_cases(tw, calls, client, typed):
    case = do_record_case(
        tw.specialist,
        project=tw.project,
        case_type="repair",
        channel="hotline",
        description="厨房水管漏水",
        party=tw.owner_a,
        units=[tw.unit_a],
    )
    calls.post(ringing(caller=typed))
    call = Call.objects.get()
    response = login(client, tw.front_desk).get(POP, {"shown": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "张伟" in html
    assert tw.unit_a.label in html
    assert case.number in html
    assert f"{reverse('cases:case_new')}?call={call.pk}&amp;party={tw.owner_a.pk}" in html
    assert "李娜" not in html


def test_the_poll_answers_204_while_nothing_changes(tw, calls, client):
    login(client, tw.front_desk)
    assert client.get(POP, {"shown": ""}).status_code == 204
    calls.post(ringing())
    call = Call.objects.get()
    assert client.get(POP, {"shown": ""}).status_code == 200
    assert client.get(POP, {"shown": f"{call.pk}-ringing"}).status_code == 204
    calls.post({"call_id": "c-1", "event": "answered"})
    assert client.get(POP, {"shown": f"{call.pk}-ringing"}).status_code == 200


def test_nothing_ringing_costs_one_query_besides_the_session(tw, client, django_assert_num_queries):
    login(client, tw.front_desk)
    client.get(POP, {"shown": ""})
    # Session and user, then the indexed look-up of a popped call.
    with django_assert_num_queries(3):
        assert client.get(POP, {"shown": ""}).status_code == 204


def test_an_agent_outside_the_project_sees_no_pop_up_and_no_call(tw, calls, client):
    # Extension 9001 is the other company's specialist: the project line's call is not theirs to see.
    calls.post(ringing(agent="9001"))
    login(client, tw.outsider)
    assert client.get(POP, {"shown": ""}).status_code == 204
    page = client.get(reverse("telephony:call_list"))
    assert page.status_code == 200
    assert "c-1" not in page.content.decode()
    assert client.get(reverse("cases:case_new"), {"call": Call.objects.get().pk}).context["picked"] is None


def test_an_unknown_caller_gets_a_pop_up_with_a_new_request_button(tw, calls, client):
    calls.post(ringing(caller="13600001111"))
    html = login(client, tw.front_desk).get(POP, {"shown": ""}).content.decode()
    assert "13600001111" in html
    assert f"?call={Call.objects.get().pk}" in html


def test_closing_the_pop_up_keeps_it_closed(tw, calls, client):
    calls.post(ringing())
    call = Call.objects.get()
    login(client, tw.front_desk)
    assert client.post(reverse("telephony:close_screen_pop", args=[call.pk])).status_code == 200
    calls.post({"call_id": "c-1", "event": "answered"})
    assert client.get(POP, {"shown": ""}).status_code == 204


def test_another_agent_may_not_close_my_pop_up(tw, calls, client):
    calls.post(ringing())
    login(client, tw.specialist)
    assert client.post(reverse("telephony:close_screen_pop", args=[Call.objects.get().pk])).status_code == 403


def test_roles_without_calls_stop_polling(tw, client):
    assert login(client, tw.butler).get(POP).status_code == 286
    client.logout()
    assert client.get(POP).status_code == 286


def test_the_hotline_form_opened_from_the_pop_up_is_prefilled_and_links_the_call(tw, calls, client):
    calls.post(ringing(caller="138 1234 5678"))
    call = Call.objects.get()
    url = f"{reverse('cases:case_new')}?call={call.pk}&party={tw.owner_a.pk}"
    page = login(client, tw.front_desk).get(url)
    assert page.context["picked"]["party"] == tw.owner_a.pk
    assert page.context["picked"]["units"] == str(tw.unit_a.pk)
    assert page.context["form"].initial["project"] == tw.project.pk
    data = {
        "project": tw.project.pk,
        "party": tw.owner_a.pk,
        "units": [tw.unit_a.pk],
        "case_type": "repair",
        "channel": "hotline",
        "severity": "normal",
        "description": "卫生间漏水",
        "idempotency_key": "k-1",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    case = Case.objects.get()
    assert list(call.cases.all()) == [case]
    # Sent twice (a double click): still one request and one link.
    client.post(url, data)
    assert Case.objects.count() == 1 and CallCase.objects.count() == 1
    call.refresh_from_db()
    assert call.pop_closed


def test_a_call_outside_the_scope_is_not_linked(tw, calls, client):
    calls.post(ringing(agent="8001"))
    call = Call.objects.get()
    login(client, tw.specialist)  # not this call's agent and not a supervisor: cannot see it
    url = f"{reverse('cases:case_new')}?call={call.pk}"
    data = {
        "project": tw.project.pk,
        "caller_name": "张先生",
        "case_type": "inquiry",
        "channel": "hotline",
        "severity": "normal",
        "description": "咨询物业费",
        "idempotency_key": "k-2",
    }
    assert client.post(url, data).status_code == 302
    assert Case.objects.count() == 1
    assert not CallCase.objects.exists()


def test_supervisors_list_recent_and_missed_calls_with_recordings(tw, calls, client):
    calls.post(ringing(call_id="r-1"))
    calls.post({"call_id": "r-1", "event": "answered"})
    calls.post({"call_id": "r-1", "event": "ended"})
    calls.post({"call_id": "r-1", "event": "recording", "recording_url": "https://rec.example.com/r-1.mp3"})
    calls.post(ringing(call_id="m-1", agent="8002"))
    calls.post({"call_id": "m-1", "event": "ended"})
    login(client, tw.team_lead)
    html = client.get(reverse("telephony:call_list")).content.decode()
    assert 'data-call="r-1"' in html and 'data-call="m-1"' in html
    assert "https://rec.example.com/r-1.mp3" in html
    missed = client.get(reverse("telephony:call_list"), {"view": "missed"}).content.decode()
    assert 'data-call="m-1"' in missed and 'data-call="r-1"' not in missed
    # An agent sees only their own calls.
    client.logout()
    mine = login(client, tw.front_desk).get(reverse("telephony:call_list")).content.decode()
    assert 'data-call="r-1"' in mine and 'data-call="m-1"' not in mine


def test_linking_needs_both_the_call_and_the_request_in_scope(tw, calls):
    from django.core.exceptions import PermissionDenied

    from guanjia.telephony.services import do_link_call_case

    calls.post(ringing())
    call = Call.objects.get()
    case = do_record_case(
        tw.front_desk, project=tw.project, case_type="inquiry", channel="hotline", description="咨询", caller_name="张"
    )
    with pytest.raises(PermissionDenied):
        do_link_call_case(tw.outsider, call, case)
    assert do_link_call_case(tw.front_desk, call, case) is True
    assert do_link_call_case(tw.front_desk, call, case) is False


def test_the_pop_up_stays_away_from_the_form_recording_its_call(tw, calls, client):
    calls.post(ringing())
    call = Call.objects.get()
    login(client, tw.front_desk)
    page = client.get(reverse("cases:case_new"), {"call": call.pk}).content.decode()
    assert f"page_call={call.pk}" in page
    assert client.get(POP, {"shown": "", "page_call": call.pk}).status_code == 204
    # Another call ringing meanwhile still pops up.
    calls.post(ringing(call_id="c-2", caller="13987651502"))
    assert "李娜" in client.get(POP, {"shown": "", "page_call": call.pk}).content.decode()
