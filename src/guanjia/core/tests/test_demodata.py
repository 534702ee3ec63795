"""The demo data: deterministic, the promised shape, valid personal data, and the demo command."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q

from guanjia import demodata
from guanjia.core.models import ObjectChange
from guanjia.estate.identity import id_digest, mask_id_number, normalize_phone, reveal_id_number, validate_id_number
from guanjia.estate.models import Building, ContactLog, Occupancy, Party, Tag, Unit
from guanjia.org.choices import CompanyKind, Role
from guanjia.org.models import Area, Company, Project, Staff


def test_same_seed_gives_identical_data_and_another_seed_different_data():
    assert demodata.plan_digest(1, seed=7) == demodata.plan_digest(1, seed=7)
    assert demodata.plan_digest(1, seed=7) != demodata.plan_digest(1, seed=8)


def test_scale_multiplies_projects_over_more_city_companies():
    org = demodata.plan_organisation(scale=10)
    assert len(org.projects) == 40
    assert len({p.code for p in org.projects}) == 40
    assert len(org.companies) - 1 > 2
    # The scale-1 projects (and so their logins) exist at every scale.
    assert {"绿色家园", "桂园", "锦江花园", "翠湖天地"} <= {p.name for p in org.projects}


def test_scale_below_one_is_refused(db):
    with pytest.raises(CommandError, match="scale"):
        call_command("demo", scale=0, stdout=StringIO())
    assert not Company.objects.exists()


def test_login_lines_hint_on_an_empty_database_and_stay_silent_for_real_accounts(db):
    assert len(demodata.login_lines()) == 1
    Staff.objects.create_user(username="admin", password="something-else-entirely")
    assert demodata.login_lines() == []


def test_if_empty_leaves_a_database_with_projects_alone(world):
    before = (Project.objects.count(), Unit.objects.count(), Staff.objects.count())
    out = StringIO()
    call_command("demo", if_empty=True, stdout=out)
    assert (Project.objects.count(), Unit.objects.count(), Staff.objects.count()) == before
    assert (
        not Company.objects.filter(name=demodata.GROUP_NAME, kind=CompanyKind.GROUP).exclude(pk=world.group.pk).exists()
    )


def test_demo_refuses_a_database_with_projects(world):
    with pytest.raises(CommandError):
        call_command("demo", stdout=StringIO())
    assert Project.objects.count() == 3


def test_demo_clashing_with_an_existing_account_writes_nothing(db):
    Staff.objects.create_user(username="admin", password="something-else-entirely")
    with pytest.raises(CommandError):
        call_command("demo", stdout=StringIO())
    assert not Company.objects.exists()
    assert not Unit.objects.exists()
    assert Staff.objects.count() == 1


# The loaded demo is shared by the tests below (loading takes a few seconds). They must stay
# last in this module: the data lives until the module's last test has run.
@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    out = StringIO()
    with django_db_blocker.unblock():
        call_command("demo", stdout=out)
    yield out.getvalue()
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db
class TestLoadedDemo:
    def test_demo_has_the_promised_shape(self, demo):
        assert Company.objects.filter(kind=CompanyKind.GROUP).count() == 1
        assert Company.objects.filter(kind=CompanyKind.CITY).count() == 2
        assert Project.objects.count() == 4
        assert 35 <= Building.objects.count() <= 50
        assert 5_500 <= Unit.objects.count() <= 6_500
        assert 7_000 <= Party.objects.count() <= 9_000
        assert set(Staff.objects.values_list("role", flat=True)) == set(Role.values)
        assert ContactLog.objects.exists()
        # The initial ledger is not a change anyone made.
        assert not ObjectChange.objects.filter(content_type__app_label__in=("org", "estate")).exists()
        assert f"{Unit.objects.count()}" in demo

    def test_demo_staff_scopes_fit_their_roles(self, demo):
        assert not Building.objects.filter(area__isnull=True).exists()
        butler_counts = Area.objects.annotate(n=Count("butlers")).values_list("n", flat=True)
        assert set(butler_counts) <= {1, 2}
        assert not Staff.objects.filter(role=Role.BUTLER, areas__isnull=True).exists()
        assert not Staff.objects.filter(role=Role.HANDLER, department__isnull=True).exists()
        assert not Staff.objects.filter(role=Role.MANAGER, company__isnull=True).exists()
        assert not Staff.objects.filter(role__in=[Role.SPECIALIST, Role.TEAM_LEAD], project__isnull=True).exists()
        admin = Staff.objects.get(username="admin")
        assert admin.check_password(demodata.DEMO_PASSWORD)
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", admin.display_name)

    def test_demo_units_are_numbered_by_floor_and_sold_units_have_an_owner(self, demo):
        for unit in Unit.objects.filter(kind="residence", floor=15).select_related("building", "entrance")[:50]:
            assert re.fullmatch(r"\d+栋\d单元15\d\d", unit.label)
        assert Unit.objects.filter(kind="shop", number__startswith="S-").exists()
        assert Unit.objects.filter(kind="parking", number__startswith="B1-", floor=-1).exists()
        assert Unit.objects.filter(kind="villa").exists()
        owned = Occupancy.objects.filter(role="owner", end__isnull=True).values("unit_id")
        assert not Unit.objects.exclude(status="unsold").exclude(id__in=owned).exists()
        assert not Occupancy.objects.filter(unit__status="unsold").exists()
        assert Occupancy.objects.filter(end__isnull=False).exists()
        assert not Occupancy.objects.filter(end__lt=F("start")).exists()

    def test_demo_personal_data_is_valid_and_protected(self, demo):
        persons = Party.objects.filter(kind="person")
        sample = list(persons.order_by("id")[::40])
        assert len(sample) > 150
        for party in sample:
            number = reveal_id_number(party.id_number_encrypted)
            assert validate_id_number(number) == number
            assert party.id_number_digest == id_digest(number)
            assert party.id_number_masked == mask_id_number(number)
            assert normalize_phone(party.phone) == party.phone
            assert party.phone_tail == party.phone[-4:]
            assert party.name_pinyin and party.name_initials
        for phone2 in Party.objects.exclude(phone2="").values_list("phone2", flat=True)[:100]:
            assert normalize_phone(phone2) == phone2
        digests = persons.values_list("id_number_digest", flat=True)
        assert len(set(digests)) == persons.count()
        assert Tag.objects.filter(name__in=["重点客户", "孤寡老人", "困难户", "沉默客户", "VIP", "租户"]).count() == 6
        assert Party.objects.filter(tags__name="孤寡老人").exists()

    def test_demo_rows_follow_the_plan(self, demo):
        org = demodata.plan_organisation()
        plan = demodata.plan_project(org, org.projects[0])
        project = Project.objects.get(code=org.projects[0].code)
        names = list(Party.objects.filter(project=project).order_by("id").values_list("name", flat=True))
        assert names == [row[1] for row in plan.parties]

    def test_login_lines_list_every_role_with_the_demo_password(self, demo):
        lines = demodata.login_lines()
        assert len(lines) == len(Role.values)
        for role in Role:
            assert any(line.startswith(str(role.label)) for line in lines), role
        assert all(demodata.DEMO_PASSWORD in line for line in lines)
        assert any("specialist_lsjy" in line and "绿色家园" in line for line in lines)
        for line in lines:
            assert line in demo

    def test_demo_fills_the_channels_and_reports(self, demo):
        from guanjia.portal.models import Notice, UnitBinding
        from guanjia.reports.models import Report
        from guanjia.telephony.models import Call, CallCase
        from guanjia.wechat.models import DraftCase

        statuses = sorted(UnitBinding.objects.values_list("status", flat=True))
        assert statuses == ["active", "pending"]
        binding = UnitBinding.objects.get(status="active")
        assert binding.account.phone in demo
        assert binding.unit.cases.filter(channel="portal", description__contains="地漏").count() == 1
        assert Notice.objects.count() == 2
        assert Call.objects.count() == 4 and CallCase.objects.count() == 1
        assert DraftCase.objects.filter(status="open").count() == 2
        assert Report.objects.count() == 4

    def test_demo_owners_of_several_units_exist(self, demo):
        multi = Party.objects.annotate(n=Count("occupancies", filter=Q(occupancies__role="owner"))).filter(n__gt=1)
        assert multi.exists()
