from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from guanjia.cases.choices import CaseType, Channel
from guanjia.cases.models import Category
from guanjia.cases.services import do_record_case
from guanjia.org.choices import DepartmentKind, Role, ScopeLevel
from guanjia.org.models import Department
from guanjia.testing import make_staff

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    """An aware Shanghai time: at(2025, 9, 30, 18, 30)."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """These tests never log in; a cheap hasher keeps building the staff of every test fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cw(world):
    """The test world plus the people a request meets: handlers of engineering, cost and the property company."""
    w = world
    w.cost_dept = Department.objects.create(company=w.company, kind=DepartmentKind.COST, name="成本部")
    w.property_dept = Department.objects.create(company=w.company, kind=DepartmentKind.PROPERTY, name="物业公司")
    w.other_dept = Department.objects.create(company=w.other_company, kind=DepartmentKind.ENGINEERING, name="工程部")
    w.handler = make_staff("handler", Role.HANDLER, ScopeLevel.PROJECT, project=w.project, department=w.dept)
    w.handler2 = make_staff("handler2", Role.HANDLER, ScopeLevel.PROJECT, project=w.project, department=w.dept)
    w.cost_handler = make_staff(
        "cost_handler", Role.HANDLER, ScopeLevel.PROJECT, project=w.project, department=w.cost_dept
    )
    w.property_handler = make_staff(
        "property_handler", Role.HANDLER, ScopeLevel.PROJECT, project=w.project, department=w.property_dept
    )
    w.front_desk = make_staff("front_desk", Role.FRONT_DESK, ScopeLevel.PROJECT, project=w.project)
    w.specialist2 = make_staff("specialist2", Role.SPECIALIST, ScopeLevel.PROJECT, project=w.project)
    w.team_lead = make_staff("team_lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=w.project)
    w.inspector = make_staff("inspector", Role.INSPECTOR, ScopeLevel.PROJECT, project=w.project)
    return w


@pytest.fixture
def clock(monkeypatch):
    """Set "now" for the services: clock.set(at(2025, 11, 3, 9, 0))."""

    class Clock:
        now = None

        def set(self, moment: datetime) -> datetime:
            self.now = moment
            monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)
            return moment

    return Clock()


def category(*path: str) -> Category:
    node = None
    for name in path:
        node = Category.objects.get(name=name, parent=node)
    return node


def record(actor, project, **extra):
    data = {
        "project": project,
        "case_type": CaseType.COMPLAINT,
        "channel": Channel.HOTLINE,
        "description": "楼上装修噪音太大",
        "caller_name": "张伟",
    }
    data.update(extra)
    return do_record_case(actor, **data)
