"""The call system's webhook: events build the call, retries change nothing, bad input names the field."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from guanjia.core.models import ApiToken
from guanjia.org.choices import Role, ScopeLevel
from guanjia.telephony.choices import CallState
from guanjia.telephony.models import Call, CallEvent
from guanjia.testing import make_staff

from .conftest import PROBLEM, CallSystem, ringing


def problem_of(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


def test_ringing_creates_the_call_with_the_caller_normalised_and_the_agent_mapped(tw, calls):
    response = calls.post(ringing(caller="+86 138 1234 5678"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "ringing"
    assert body["recorded"] is True
    call = Call.objects.get(provider_call_id="c-1")
    assert call.caller == "13812345678"
    assert call.caller_raw == "+86 138 1234 5678"
    assert call.agent == tw.front_desk
    assert call.project == tw.project
    assert call.party == tw.owner_a
    assert call.pop_until > timezone.now()


def test_a_whole_call_answered_ended_and_recorded(tw, calls):
    start = timezone.now() - timedelta(minutes=5)
    calls.post(ringing(at=start.isoformat()))
    calls.post({"call_id": "c-1", "event": "answered", "at": (start + timedelta(seconds=10)).isoformat()})
    calls.post({"call_id": "c-1", "event": "ended", "at": (start + timedelta(seconds=130)).isoformat()})
    response = calls.post({"call_id": "c-1", "event": "recording", "recording_url": "https://rec.example.com/c-1.mp3"})
    assert response.status_code == 201
    call = Call.objects.get(provider_call_id="c-1")
    assert call.state == CallState.ENDED
    assert call.duration == 120
    assert call.recording_url == "https://rec.example.com/c-1.mp3"
    assert list(call.events.values_list("kind", flat=True)) == ["ringing", "answered", "ended", "recording"]


def test_a_retried_event_changes_nothing(tw, calls):
    calls.post(ringing())
    first = calls.post({"call_id": "c-1", "event": "ended", "duration": 0})
    assert first.status_code == 201
    before = Call.objects.values().get(provider_call_id="c-1")
    again = calls.post({"call_id": "c-1", "event": "ended", "duration": 99})
    assert again.status_code == 200
    assert again.json()["recorded"] is False
    assert Call.objects.values().get(provider_call_id="c-1") == before
    assert CallEvent.objects.filter(call__provider_call_id="c-1").count() == 2
    assert Call.objects.count() == 1


def test_a_retried_first_event_creates_one_call(tw, calls):
    assert calls.post(ringing()).status_code == 201
    assert calls.post(ringing()).status_code == 200
    assert Call.objects.count() == 1
    assert CallEvent.objects.count() == 1


def test_ended_without_answer_is_missed_and_out_of_order_answer_still_counts(tw, calls):
    calls.post(ringing(call_id="m-1"))
    calls.post({"call_id": "m-1", "event": "ended"})
    assert Call.objects.get(provider_call_id="m-1").state == CallState.MISSED
    now = timezone.now()
    calls.post(ringing(call_id="o-1", at=(now - timedelta(minutes=2)).isoformat()))
    calls.post({"call_id": "o-1", "event": "ended", "at": now.isoformat()})
    calls.post({"call_id": "o-1", "event": "answered", "at": (now - timedelta(minutes=1)).isoformat()})
    call = Call.objects.get(provider_call_id="o-1")
    assert call.state == CallState.ENDED
    assert call.duration == 60


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"event": "ringing", "caller": "13812345678", "callee": "01062345678"}, "call_id"),
        ({"call_id": "x", "event": "hangup", "caller": "1", "callee": "01062345678"}, "event"),
        ({"call_id": "x", "event": "ringing", "callee": "01062345678"}, "caller"),
        ({"call_id": "x", "event": "ringing", "caller": "13812345678"}, "callee"),
        ({"call_id": "x", "event": "ringing", "caller": "13812345678", "callee": "99999"}, "callee"),
        ({"call_id": "x", "event": "ringing", "caller": "13812345678", "callee": "01062345678", "at": "soon"}, "at"),
        ({"call_id": "x", "event": "ended", "caller": "1", "callee": "01062345678", "duration": -5}, "duration"),
        ({"call_id": "x", "event": "recording", "caller": "1", "callee": "01062345678"}, "recording_url"),
        (
            {
                "call_id": "x",
                "event": "recording",
                "caller": "1",
                "callee": "01062345678",
                "recording_url": "javascript:alert(1)",
            },
            "recording_url",
        ),
        ({"call_id": "x", "event": "ringing", "caller": "1", "callee": "01062345678", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(tw, calls, data, field):
    body = problem_of(calls.post(data), 422)
    assert field in [e["field"] for e in body["errors"]]
    assert not Call.objects.exists()
    assert not CallEvent.objects.exists()


def test_a_future_time_is_refused(tw, calls):
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    body = problem_of(calls.post(ringing(at=later)), 422)
    assert body["errors"][0]["field"] == "at"


def test_a_line_of_another_company_is_outside_the_token_scope(tw, calls):
    body = problem_of(calls.post(ringing(callee="028-8765 4321")), 422)
    assert body["errors"][0]["field"] == "callee"
    assert not Call.objects.exists()


def test_roles_without_the_permission_may_not_post(tw, client):
    agent = CallSystem(client, tw.specialist)
    problem_of(agent.post(ringing()), 403)
    assert not Call.objects.exists()


def test_no_token_is_401(tw, client):
    response = client.post("/api/v1/calls/events", ringing(), content_type="application/json")
    problem_of(response, 401)


def test_company_line_places_a_known_caller_in_their_project(tw, calls):
    calls.post(ringing(call_id="k-1", callee="400-800-1234", caller="13987651502", agent="8002"))
    call = Call.objects.get(provider_call_id="k-1")
    assert call.company == tw.company
    assert call.project == tw.project
    assert call.party == tw.owner_b
    calls.post(ringing(call_id="u-1", callee="4008001234", caller="13600000000"))
    unknown = Call.objects.get(provider_call_id="u-1")
    assert unknown.project is None and unknown.party is None


def test_unknown_extension_records_the_call_without_an_agent(tw, calls):
    assert calls.post(ringing(agent="7777")).status_code == 201
    call = Call.objects.get()
    assert call.agent is None and call.agent_extension == "7777" and call.pop_until is None


def test_call_list_api_is_scoped(tw, calls, client):
    calls.post(ringing(call_id="a-1", agent="8001"))
    calls.post(ringing(call_id="a-2", agent="8002", caller="13987651502"))
    lead = CallSystem(client, tw.team_lead)
    assert {c["call_id"] for c in lead.get("/calls").json()["items"]} == {"a-1", "a-2"}
    desk = CallSystem(client, tw.front_desk)
    assert [c["call_id"] for c in desk.get("/calls").json()["items"]] == ["a-1"]
    outsider = CallSystem(
        client, make_staff("lead_other", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=tw.other_project)
    )
    assert outsider.get("/calls").json()["items"] == []
    call = Call.objects.get(provider_call_id="a-1")
    problem_of(outsider.get(f"/calls/{call.pk}"), 404)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a real server; SQLite's in-memory test database is shared"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_the_first_event_record_one_call(tw):
    _, raw = ApiToken.issue(tw.call_system, "call system")
    count = 6
    barrier = threading.Barrier(count)
    answers: list = []

    def run():
        try:
            barrier.wait()
            response = Client().post(
                "/api/v1/calls/events",
                ringing(call_id="same"),
                content_type="application/json",
                headers={"Authorization": f"Bearer {raw}"},
            )
            answers.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200] * (count - 1) + [201]
    assert Call.objects.count() == 1
    assert CallEvent.objects.count() == 1
