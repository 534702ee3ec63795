import pytest

from guanjia.cases.tests.conftest import at, clock, cw, record  # noqa: F401 - shared fixtures and helpers
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff


@pytest.fixture
def nw(cw):  # noqa: F811 - the imported fixture
    """The case world plus supervisors in and out of the project's line: who must and must not be told."""
    w = cw
    w.company_lead = make_staff("company_lead", Role.TEAM_LEAD, ScopeLevel.COMPANY, company=w.company)
    w.sister_lead = make_staff("sister_lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=w.sister_project)
    w.other_lead = make_staff("other_lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=w.other_project)
    w.other_manager = make_staff("other_manager", Role.MANAGER, ScopeLevel.COMPANY, company=w.other_company)
    w.group_lead = make_staff("group_lead", Role.TEAM_LEAD, ScopeLevel.GROUP)
    for staff in (w.specialist, w.team_lead, w.manager, w.handler):
        staff.email = f"{staff.username}@example.com"
        staff.phone = "13800001234"
        staff.save(update_fields=["email", "phone"])
    return w
