"""Binding an account to a unit: name + last six ID characters, or a request the butler approves;
the household, the sharing switch, and the console page that approves requests."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanjia.core.history import history_for
from guanjia.estate.choices import OccupancyRole
from guanjia.estate.models import Occupancy
from guanjia.org.choices import Role, ScopeLevel
from guanjia.portal import services
from guanjia.portal.choices import BindingMethod, BindingStatus, Relation
from guanjia.portal.models import UnitBinding
from guanjia.portal.queries import active_bindings, pending_bindings_for
from guanjia.testing import make_staff

from .conftest import OWNER_A_ID, OWNER_B_ID, RESIDENT_ID, portal_login, sign_in_account

NO_MATCH = "do not match our records"


def account_for(phone="13600000000"):
    return sign_in_account(phone)


# --- by name and ID digits -----------------------------------------------------------------------------


def test_owner_binds_with_name_and_last_six_id_characters(pw):
    account = account_for()
    binding = services.do_bind_unit_by_identity(account, unit=pw.unit_b, name=" 李 娜 ", id_tail=OWNER_B_ID[-6:])
    assert (binding.party, binding.status, binding.method, binding.relation) == (
        pw.owner_b,
        BindingStatus.ACTIVE,
        BindingMethod.IDENTITY,
        Relation.OWNER,
    )
    assert list(active_bindings(account)) == [binding]


def test_resident_binds_as_resident(pw):
    binding = services.do_bind_unit_by_identity(
        account_for(), unit=pw.unit_b, name="李小明", id_tail=RESIDENT_ID[-6:].lower()
    )
    assert (binding.party, binding.relation) == (pw.resident_b, Relation.RESIDENT)


@pytest.mark.parametrize(
    "name,tail",
    [
        ("李娜", "000000"),  # right name, wrong digits
        ("王芳", OWNER_B_ID[-6:]),  # wrong name, right digits
        ("张伟", OWNER_A_ID[-6:]),  # a real owner, of another unit
    ],
)
def test_mismatch_is_refused_without_saying_which_part_was_wrong(pw, name, tail):
    account = account_for()
    with pytest.raises(ValidationError) as exc:
        services.do_bind_unit_by_identity(account, unit=pw.unit_b, name=name, id_tail=tail)
    assert NO_MATCH in " ".join(exc.value.messages)
    assert not hasattr(exc.value, "error_dict")  # not tied to the name or the ID field
    assert not UnitBinding.objects.exists()


def test_badly_written_id_digits_are_a_field_error(pw):
    with pytest.raises(ValidationError) as exc:
        services.do_bind_unit_by_identity(account_for(), unit=pw.unit_b, name="李娜", id_tail="12ab")
    assert "last six characters" in " ".join(exc.value.message_dict["id_tail"])


def test_former_occupant_cannot_bind(pw):
    Occupancy.objects.filter(party=pw.owner_b, unit=pw.unit_b).update(end=date.today() - timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        services.do_bind_unit_by_identity(account_for(), unit=pw.unit_b, name="李娜", id_tail=OWNER_B_ID[-6:])
    assert NO_MATCH in " ".join(exc.value.messages)


def test_tenant_cannot_bind_by_id_but_may_ask(pw):
    from guanjia.testing import make_party

    from .conftest import with_id

    tenant_id = "11010519900909876"
    from guanjia.estate.identity import id_check_digit

    tenant_id += id_check_digit(tenant_id)
    tenant = with_id(make_party("赵租", pw.project, "13500001502"), tenant_id)
    Occupancy.objects.create(party=tenant, unit=pw.unit_b, role=OccupancyRole.TENANT, start=date(2025, 1, 1))
    account = account_for()
    with pytest.raises(ValidationError):
        services.do_bind_unit_by_identity(account, unit=pw.unit_b, name="赵租", id_tail=tenant_id[-6:])
    binding = services.do_request_binding(account, unit=pw.unit_b, name="赵租", relation=Relation.TENANT)
    assert binding.status == BindingStatus.PENDING


def test_failed_checks_are_limited_per_account_and_per_unit(pw, settings):
    settings.GUANJIA_PORTAL_BIND_FAILURES_PER_ACCOUNT = 3
    settings.GUANJIA_PORTAL_BIND_FAILURES_PER_UNIT = 4
    first = account_for("13600000001")
    for _ in range(3):
        with pytest.raises(ValidationError):
            services.do_bind_unit_by_identity(first, unit=pw.unit_b, name="李娜", id_tail="000000")
    # Even the right digits are refused now: guessing has stopped.
    with pytest.raises(ValidationError) as exc:
        services.do_bind_unit_by_identity(first, unit=pw.unit_b, name="李娜", id_tail=OWNER_B_ID[-6:])
    assert "Too many failed checks" in " ".join(exc.value.messages)
    second = account_for("13600000002")
    with pytest.raises(ValidationError):
        services.do_bind_unit_by_identity(second, unit=pw.unit_b, name="李娜", id_tail="000001")
    with pytest.raises(ValidationError) as exc:
        services.do_bind_unit_by_identity(second, unit=pw.unit_b, name="李娜", id_tail=OWNER_B_ID[-6:])
    assert "Too many failed checks" in " ".join(exc.value.messages)
    # Another unit is not affected.
    services.do_bind_unit_by_identity(second, unit=pw.unit_a, name="张伟", id_tail=OWNER_A_ID[-6:])
    assert not UnitBinding.objects.filter(unit=pw.unit_b).exists()


def test_binding_twice_is_refused(pw):
    account = account_for()
    services.do_bind_unit_by_identity(account, unit=pw.unit_b, name="李娜", id_tail=OWNER_B_ID[-6:])
    with pytest.raises(ValidationError) as exc:
        services.do_bind_unit_by_identity(account, unit=pw.unit_b, name="李娜", id_tail=OWNER_B_ID[-6:])
    assert "already bound" in " ".join(exc.value.message_dict["room"])
    assert UnitBinding.objects.count() == 1


def test_moving_out_ends_what_a_binding_shows(pw):
    account = account_for()
    services.do_bind_unit_by_identity(account, unit=pw.unit_b, name="李娜", id_tail=OWNER_B_ID[-6:])
    Occupancy.objects.filter(party=pw.owner_b, unit=pw.unit_b).update(end=timezone.localdate() - timedelta(days=1))
    assert not active_bindings(account).exists()


@pytest.mark.parametrize(
    "room,ok",
    [("3栋2单元1502", True), ("3-2-1502", True), ("3栋1502", True), ("9栋1502", False), ("楼上", False)],
)
def test_units_are_found_the_way_owners_write_them(pw, room, ok):
    if ok:
        assert services.find_unit(pw.project, room) == pw.unit_b
    else:
        with pytest.raises(ValidationError) as exc:
            services.find_unit(pw.project, room)
        assert "room" in exc.value.message_dict


# --- by approval ------------------------------------------------------------------------------------------


def test_butler_of_the_area_approves_a_request(pw):
    account = account_for()
    binding = services.do_request_binding(
        account, unit=pw.unit_b, name="李小明", relation=Relation.FAMILY, note="业主的儿子"
    )
    assert list(pending_bindings_for(pw.butler)) == [binding]
    assert not active_bindings(account).exists()
    approved = services.do_approve_binding(pw.butler, binding, party=pw.resident_b)
    assert (approved.status, approved.party, approved.decided_by) == (BindingStatus.ACTIVE, pw.resident_b, pw.butler)
    assert list(active_bindings(account)) == [approved]
    assert history_for(approved).exists()


def test_other_areas_and_projects_do_not_see_the_request(pw):
    butler_a = make_staff("butler_a", Role.BUTLER, ScopeLevel.AREA, project=pw.project, areas=[pw.area_a])
    binding = services.do_request_binding(account_for(), unit=pw.unit_b, name="李小明", relation=Relation.FAMILY)
    for outsider in (butler_a, pw.outsider):
        assert not pending_bindings_for(outsider).exists()
        with pytest.raises(PermissionDenied):
            services.do_approve_binding(outsider, binding, party=pw.resident_b)
    binding.refresh_from_db()
    assert binding.status == BindingStatus.PENDING


def test_approval_needs_someone_living_in_the_unit(pw):
    binding = services.do_request_binding(account_for(), unit=pw.unit_b, name="王芳", relation=Relation.FAMILY)
    with pytest.raises(ValidationError) as exc:
        services.do_approve_binding(pw.butler, binding, party=pw.other_owner)
    assert "party" in exc.value.message_dict
    binding.refresh_from_db()
    assert binding.status == BindingStatus.PENDING


def test_rejection_needs_a_reason_the_applicant_sees(client, pw):
    account = account_for("13600000009")
    binding = services.do_request_binding(account, unit=pw.unit_b, name="陌生人", relation=Relation.TENANT)
    with pytest.raises(ValidationError):
        services.do_reject_binding(pw.butler, binding, reason=" ")
    services.do_reject_binding(pw.butler, binding, reason="台账中无此人，请携带租赁合同到服务中心办理")
    portal_login(client, "13600000009")
    page = client.get("/m/units/").content.decode()
    assert "台账中无此人" in page


def test_handlers_and_inspectors_may_not_review(pw):
    inspector = make_staff("inspector", Role.INSPECTOR, ScopeLevel.PROJECT, project=pw.project)
    binding = services.do_request_binding(account_for(), unit=pw.unit_b, name="李小明", relation=Relation.FAMILY)
    with pytest.raises(PermissionDenied):
        services.do_approve_binding(inspector, binding, party=pw.resident_b)


def test_identity_check_settles_a_waiting_request(pw):
    account = account_for()
    services.do_request_binding(account, unit=pw.unit_b, name="李娜", relation=Relation.OWNER)
    binding = services.do_bind_unit_by_identity(account, unit=pw.unit_b, name="李娜", id_tail=OWNER_B_ID[-6:])
    assert UnitBinding.objects.get().pk == binding.pk and binding.status == BindingStatus.ACTIVE


# --- household and sharing -----------------------------------------------------------------------------


def test_only_the_owner_switches_household_sharing(pw):
    owner = account_for("13600000001")
    resident = account_for("13600000002")
    owner_binding = services.do_bind_unit_by_identity(owner, unit=pw.unit_b, name="李娜", id_tail=OWNER_B_ID[-6:])
    resident_binding = services.do_bind_unit_by_identity(
        resident, unit=pw.unit_b, name="李小明", id_tail=RESIDENT_ID[-6:]
    )
    with pytest.raises(PermissionDenied):
        services.do_set_household_sharing(resident, resident_binding, enabled=True)
    with pytest.raises(PermissionDenied):
        services.do_set_household_sharing(resident, owner_binding, enabled=True)
    assert services.do_set_household_sharing(owner, owner_binding, enabled=True).enabled


# --- pages ------------------------------------------------------------------------------------------------


def test_bind_page_binds_and_lists_the_household(client, pw):
    portal_login(client, "13600000001")
    response = client.post(
        "/m/units/bind/",
        {"mode": "identity", "project": pw.project.pk, "room": "3-2-1502", "name": "李娜", "id_tail": OWNER_B_ID[-6:]},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "绿色家园 3栋2单元1502" in page and "李小明" in page


def test_bind_page_refusal_names_no_field(client, pw):
    portal_login(client, "13600000001")
    response = client.post(
        "/m/units/bind/",
        {"mode": "identity", "project": pw.project.pk, "room": "3-2-1502", "name": "李娜", "id_tail": "000000"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and NO_MATCH in page
    assert not UnitBinding.objects.exists()


def test_request_page_and_console_approval(client, pw):
    portal_login(client, "13600000001")
    response = client.post(
        "/m/units/bind/",
        {"mode": "request", "project": pw.project.pk, "room": "3栋2单元1502", "name": "李小明", "relation": "family"},
    )
    assert response.status_code == 302
    binding = UnitBinding.objects.get()
    staff = client.__class__(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(pw.butler)
    page = staff.get("/portal/bindings/").content.decode()
    assert f'data-binding="{binding.pk}"' in page and "李小明" in page
    response = staff.post(
        f"/portal/bindings/{binding.pk}/decide/", {"decision": "approve", f"b{binding.pk}-party": pw.resident_b.pk}
    )
    assert response.status_code == 302
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE and binding.party == pw.resident_b


def test_console_page_is_for_staff_in_scope(client, pw):
    binding = services.do_request_binding(account_for(), unit=pw.unit_b, name="李小明", relation=Relation.FAMILY)
    client.force_login(pw.outsider)
    assert f'data-binding="{binding.pk}"' not in client.get("/portal/bindings/").content.decode()
    assert client.post(f"/portal/bindings/{binding.pk}/decide/", {"decision": "reject"}).status_code == 404
    handler = make_staff("handler", Role.HANDLER, ScopeLevel.PROJECT, project=pw.project, department=pw.dept)
    client.force_login(handler)
    assert client.get("/portal/bindings/").status_code == 403


def test_sharing_switch_page(client, pw):
    portal_login(client, pw.owner_b.phone)
    client.post(
        "/m/units/bind/",
        {"mode": "identity", "project": pw.project.pk, "room": "3-2-1502", "name": "李娜", "id_tail": OWNER_B_ID[-6:]},
    )
    binding = UnitBinding.objects.get()
    client.post(f"/m/units/{binding.pk}/share/", {"enabled": "1"})
    assert 'aria-pressed="true"' in client.get("/m/units/").content.decode()
    other = client.__class__(HTTP_ACCEPT_LANGUAGE="en")
    portal_login(other, "13600000005")
    assert other.post(f"/m/units/{binding.pk}/share/", {"enabled": "0"}).status_code == 404
    assert other.post(f"/m/units/{binding.pk}/remove/").status_code == 404
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE
