from guanjia.core.history import history_for
from guanjia.core.models import ObjectChange
from guanjia.estate.choices import UnitStatus
from guanjia.estate.services import do_update_party, do_update_unit
from guanjia.testing import PASSWORD


def test_unit_edit_records_who_and_what(world):
    do_update_unit(world.specialist, world.unit_a, {"status": UnitStatus.RENOVATING, "note": "厨房改造"})
    change = history_for(world.unit_a).get()
    assert change.user == world.specialist
    assert change.action == ObjectChange.Action.UPDATE
    assert change.changes["status"] == ["已入住", "装修中"] or change.changes["status"] == ["Occupied", "Renovating"]
    assert change.changes["note"] == ["", "厨房改造"]


def test_saving_unchanged_data_leaves_no_record(world):
    do_update_unit(world.specialist, world.unit_a, {"status": world.unit_a.status})
    assert not history_for(world.unit_a).exists()


def test_id_number_changes_are_recorded_masked_only(world):
    do_update_party(world.specialist, world.owner_a, {"id_number": "11010519491231002X"})
    change = history_for(world.owner_a).get()
    assert change.changes["id_number_masked"] == [None, "1101**********002X"]
    assert "11010519491231002X" not in str(change.changes)


def test_admin_edit_of_project_is_recorded_without_secrets(world, client):
    world.admin.is_staff = True
    world.admin.is_superuser = True
    world.admin.save()
    client.login(username="admin", password=PASSWORD)
    response = client.post(
        f"/admin/org/project/{world.project.pk}/change/",
        {"company": world.company.pk, "name": "绿色家园二期", "code": "lsjy", "address": "", "property_company": ""},
    )
    assert response.status_code == 302
    change = history_for(world.project).get()
    assert change.changes["name"] == ["绿色家园", "绿色家园二期"]
    assert change.source == "admin"
