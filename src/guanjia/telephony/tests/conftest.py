import pytest
from django.test import Client

from guanjia.core.models import ApiToken
from guanjia.org.choices import Role, ScopeLevel
from guanjia.telephony.models import HotlineAgent, HotlineLine
from guanjia.testing import make_staff

PROBLEM = "application/problem+json"


class CallSystem:
    """The call system: posts events with its bearer token."""

    def __init__(self, client: Client, user):
        _, raw = ApiToken.issue(user, "call system")
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}

    def post(self, data):
        return self.client.post("/api/v1/calls/events", data, content_type="application/json", headers=self.headers)

    def get(self, url, params=None):
        return self.client.get(f"/api/v1{url}", params or {}, headers=self.headers)


@pytest.fixture
def tw(world):
    """The test world with a project line, a company line, agents in and out of the project, and the call system."""
    w = world
    w.line = HotlineLine.objects.create(
        number="01062345678", name="绿色家园服务中心", company=w.company, project=w.project
    )
    w.company_line = HotlineLine.objects.create(number="4008001234", name="北京公司热线", company=w.company)
    w.other_line = HotlineLine.objects.create(
        number="02887654321", name="锦江花园服务中心", company=w.other_company, project=w.other_project
    )
    w.front_desk = make_staff("front_desk", Role.FRONT_DESK, ScopeLevel.PROJECT, project=w.project)
    w.team_lead = make_staff("team_lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=w.project)
    w.call_system = make_staff("callcenter_bj", Role.MANAGER, ScopeLevel.COMPANY, company=w.company)
    for extension, staff in (("8001", w.front_desk), ("8002", w.specialist), ("9001", w.outsider)):
        HotlineAgent.objects.create(extension=extension, staff=staff)
    return w


@pytest.fixture
def calls(tw, client):
    return CallSystem(client, tw.call_system)


def ringing(call_id="c-1", caller="13812345678", callee="01062345678", agent="8001", **extra):
    return {"call_id": call_id, "event": "ringing", "caller": caller, "callee": callee, "agent": agent, **extra}
