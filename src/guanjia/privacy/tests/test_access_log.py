"""The personal-data access log: what is recorded, that it costs one INSERT, that a failure to write it
stops the data from leaving, that nobody can change it, and who may browse which part of it."""

import io

import pytest
from django.db import DatabaseError
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.core.models import ApiToken
from guanjia.org.choices import Role, ScopeLevel
from guanjia.privacy import services
from guanjia.privacy.choices import AccessAction
from guanjia.privacy.models import PersonalDataAccess
from guanjia.testing import make_staff


def _rows(**filters):
    return list(PersonalDataAccess.objects.filter(**filters).order_by("id"))


def test_party_page_is_logged_with_who_what_and_where(world, staff, person, sign_in):
    url = reverse("estate:party_detail", args=[person.party.pk])
    sign_in(staff[Role.FRONT_DESK]).get(url, REMOTE_ADDR="192.0.2.7")
    sign_in(staff[Role.INSPECTOR]).get(url, REMOTE_ADDR="192.0.2.8")
    full, masked = _rows(party=person.party)
    assert (full.user, full.username, full.action, full.ip) == (
        staff[Role.FRONT_DESK],
        "p_front_desk",
        AccessAction.VIEW_FULL_PHONE,
        "192.0.2.7",
    )
    assert (masked.user, masked.action, masked.ip) == (staff[Role.INSPECTOR], AccessAction.VIEW_PARTY, "192.0.2.8")
    assert full.project == masked.project == world.project


def test_party_page_outside_scope_is_404_and_logs_nothing(world, person, sign_in):
    assert sign_in(world.outsider).get(reverse("estate:party_detail", args=[person.party.pk])).status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_api_party_record_is_logged_like_the_page(world, person):
    _token, raw = ApiToken.issue(world.specialist, "crm")
    from django.test import Client

    response = Client().get(f"/api/v1/parties/{person.party.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    (row,) = _rows(party=person.party)
    assert (row.user, row.action) == (world.specialist, AccessAction.VIEW_FULL_PHONE)


def test_writing_the_log_is_one_insert(world, person, django_assert_num_queries):
    with django_assert_num_queries(1) as ctx:
        services.record_access(world.specialist, AccessAction.VIEW_PARTY, party=person.party)
    assert ctx.captured_queries[0]["sql"].upper().startswith("INSERT")


def test_log_is_append_only(world, person):
    row = services.record_access(world.specialist, AccessAction.VIEW_PARTY, party=person.party)
    with pytest.raises(TypeError):
        PersonalDataAccess.objects.filter(pk=row.pk).update(action=AccessAction.EXPORT)
    row.action = AccessAction.EXPORT
    with pytest.raises(TypeError):
        row.save()


@pytest.fixture
def broken_log(monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(PersonalDataAccess.objects, "create", fail)


def test_a_page_whose_access_cannot_be_logged_is_not_shown(world, person, sign_in, broken_log):
    client = sign_in(world.specialist)
    with pytest.raises(DatabaseError):
        client.get(reverse("estate:party_detail", args=[person.party.pk]))


def test_an_export_that_cannot_be_logged_sends_no_byte(world, person, sign_in, broken_log):
    client = sign_in(world.specialist)
    with pytest.raises(DatabaseError):
        client.get(reverse("estate:party_export") + "?project=")
    response = client.get(reverse("reports:case_export") + "?view=all&project=")
    content = iter(response.streaming_content)
    with pytest.raises(DatabaseError):
        next(content)


def _workbook_rows(response) -> int:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return sum(1 for _row in sheet.iter_rows()) - 1


def test_ledger_export_is_logged_with_its_filters_and_row_count(world, person, sign_in):
    client = sign_in(world.specialist)
    response = client.get(reverse("estate:party_export") + f"?project={world.project.pk}&q=张", REMOTE_ADDR="192.0.2.9")
    count = _workbook_rows(response)
    (row,) = _rows(action=AccessAction.EXPORT)
    assert count == 1
    assert (row.user, row.row_count, row.ip, row.project, row.party) == (
        world.specialist,
        1,
        "192.0.2.9",
        world.project,
        None,
    )
    # The description names the export and its filters as the list's form labels them.
    assert "张" in row.description and world.project.name in row.description


def test_case_export_is_logged_once_the_workbook_is_built(world, person, sign_in):
    client = sign_in(world.manager)
    response = client.get(reverse("reports:case_export") + "?view=all&project=")
    # Nothing is logged until the download starts: the rows are read inside the response.
    assert not _rows(action=AccessAction.EXPORT)
    count = _workbook_rows(response)
    (row,) = _rows(action=AccessAction.EXPORT)
    assert count == 2
    assert (row.user, row.row_count, row.company, row.project) == (world.manager, 2, world.company, None)


def test_api_case_export_is_logged_with_its_parameters(world, person):
    _token, raw = ApiToken.issue(world.admin, "bi")
    from django.test import Client

    response = Client().get(
        f"/api/v1/reports/cases.xlsx?project={world.project.pk}&type=repair",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        REMOTE_ADDR="198.51.100.4",
    )
    assert _workbook_rows(response) == 1
    (row,) = _rows(action=AccessAction.EXPORT)
    assert (row.row_count, row.ip, row.project) == (1, "198.51.100.4", world.project)
    assert "repair" in row.description or "报修" in row.description or "Repair" in row.description


def test_export_of_a_project_id_that_does_not_exist_is_still_logged(world, person):
    _token, raw = ApiToken.issue(world.admin, "bi")
    from django.test import Client

    response = Client().get("/api/v1/reports/cases.xlsx?project=987654", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert _workbook_rows(response) == 0
    (row,) = _rows(action=AccessAction.EXPORT)
    assert (row.project_id, row.row_count) == (987654, 0)


# --- the log page ----------------------------------------------------------------------------------


@pytest.fixture
def spread(world, person):
    """Accesses in both companies: to 张伟 (绿色家园), to 王芳 (锦江花园), and exports of each company."""
    w = world
    other_manager = make_staff("m_cd", Role.MANAGER, ScopeLevel.COMPANY, company=w.other_company)
    services.record_access(w.specialist, AccessAction.VIEW_FULL_PHONE, party=person.party)
    services.record_access(w.outsider, AccessAction.VIEW_FULL_PHONE, party=w.other_owner)
    services.record_access(w.manager, AccessAction.EXPORT, company_id=w.company.pk, description="北京公司导出")
    services.record_access(
        other_manager, AccessAction.EXPORT, company_id=w.other_company.pk, description="成都公司导出"
    )
    services.record_access(w.admin, AccessAction.EXPORT, description="集团导出")
    return other_manager


def _listed(client, query="") -> set[str]:
    response = client.get(reverse("privacy:access_log") + query)
    assert response.status_code == 200
    body = response.content.decode()
    texts = ("张伟", "王芳", "北京公司导出", "成都公司导出", "集团导出", "项目导出", "B区导出")
    return {text for text in texts if text in body}


def test_company_manager_sees_the_accesses_of_their_projects_only(world, spread, sign_in):
    assert _listed(sign_in(world.manager)) == {"张伟", "北京公司导出"}
    assert _listed(sign_in(spread)) == {"王芳", "成都公司导出"}
    assert _listed(sign_in(world.admin)) == {"张伟", "王芳", "北京公司导出", "成都公司导出", "集团导出"}


def test_project_and_area_managers_see_their_customers_but_not_wider_exports(world, spread, sign_in):
    project_manager = make_staff("m_lsjy", Role.MANAGER, ScopeLevel.PROJECT, project=world.project)
    assert _listed(sign_in(project_manager)) == {"张伟"}  # not the company-wide export
    # 张伟 lives in area A: area B's manager sees none of it, nor the project's exports, only their own.
    area_manager = make_staff("m_area_b", Role.MANAGER, ScopeLevel.AREA, project=world.project, areas=[world.area_b])
    services.record_access(area_manager, AccessAction.EXPORT, project_id=world.project.pk, description="B区导出")
    services.record_access(project_manager, AccessAction.EXPORT, project_id=world.project.pk, description="项目导出")
    assert _listed(sign_in(area_manager)) == {"B区导出"}
    assert _listed(sign_in(project_manager)) == {"张伟", "项目导出", "B区导出"}


@pytest.mark.parametrize("role", [r for r in Role.values if r not in (Role.ADMIN, Role.MANAGER)])
def test_other_roles_may_not_browse_the_log(world, staff, spread, sign_in, role):
    assert sign_in(staff[role]).get(reverse("privacy:access_log")).status_code == 403


def test_log_filters_by_action_party_staff_and_date(world, person, spread, sign_in):
    client = sign_in(world.admin)
    assert _listed(client, "?action=export") == {"北京公司导出", "成都公司导出", "集团导出"}
    assert _listed(client, f"?party={person.party.pk}") == {"张伟"}
    assert _listed(client, "?staff=outsider") == {"王芳"}
    assert _listed(client, "?date_from=2000-01-01&date_to=2000-01-02") == set()
    # A filter that does not validate is ignored, as in every list.
    assert _listed(client, "?action=nonsense&date_from=yesterday") == _listed(client)


def test_htmx_refresh_answers_with_the_table_only(world, spread, sign_in):
    response = sign_in(world.admin).get(reverse("privacy:access_log") + "?action=export", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "集团导出" in body


def test_party_page_links_to_its_accesses_for_those_who_may_browse_them(world, staff, person, sign_in):
    link = reverse("privacy:access_log") + f"?party={person.party.pk}"
    url = reverse("estate:party_detail", args=[person.party.pk])
    assert link in sign_in(staff[Role.MANAGER]).get(url).content.decode()
    assert link not in sign_in(staff[Role.SPECIALIST]).get(url).content.decode()


def test_describe_filters_reads_like_the_form(db):
    from django.utils import translation

    from guanjia.estate.filters import PartyFilterForm

    with translation.override("en"):
        text = services.describe_filters({"q": "张", "role": "owner", "empty": ""}, PartyFilterForm(user=None))
        assert text == "Search：张；Role：Owner"
        assert services.describe_filters({"view": "overdue", "case_type": "repair"}) == "Queue：Overdue；Type：repair"
        assert services.describe_filters({}) == "no filter"
