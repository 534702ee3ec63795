import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.estate.models import Building, Party, Unit
from guanjia.estate.services import (
    do_create_building,
    do_create_party,
    do_create_unit,
    do_update_building,
    do_update_party,
)
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff


def _errors(exc_info):
    return exc_info.value.message_dict


def test_duplicate_room_is_refused_on_the_number_field(world):
    with pytest.raises(ValidationError) as exc:
        do_create_unit(world.specialist, {"building": world.b3, "entrance": world.e32, "floor": 15, "number": "1502"})
    assert "number" in _errors(exc)
    assert Unit.objects.filter(building=world.b3, number="1502").count() == 1


def test_unit_in_a_building_outside_scope_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        do_create_unit(world.specialist, {"building": world.other_building, "floor": 3, "number": "301"})
    assert "building" in _errors(exc)
    assert not Unit.objects.filter(number="301").exists()


def test_building_name_must_be_unique_in_its_project(world):
    with pytest.raises(ValidationError) as exc:
        do_create_building(world.admin, {"project": world.project, "name": "3栋", "number": 3})
    assert "name" in _errors(exc)


def test_building_area_must_belong_to_the_same_project(world):
    with pytest.raises(ValidationError) as exc:
        do_update_building(world.admin, world.other_building, {"area": world.area_a})
    assert "area" in _errors(exc)
    world.other_building.refresh_from_db()
    assert world.other_building.area is None


def test_party_cannot_be_moved_to_a_project_outside_scope(world):
    with pytest.raises(ValidationError) as exc:
        do_update_party(world.specialist, world.owner_a, {"project": world.other_project})
    assert "project" in _errors(exc)
    world.owner_a.refresh_from_db()
    assert world.owner_a.project == world.project


def test_bad_phone_and_id_number_are_reported_together_and_nothing_is_saved(world):
    with pytest.raises(ValidationError) as exc:
        do_create_party(
            world.specialist,
            {"name": "赵磊", "project": world.project, "phone": "12345", "id_number": "110105194912310021"},
        )
    assert set(_errors(exc)) == {"phone", "id_number"}
    assert not Party.objects.filter(name="赵磊").exists()


def test_duplicate_id_number_is_refused(world):
    do_update_party(world.specialist, world.owner_a, {"id_number": "11010519491231002X"})
    with pytest.raises(ValidationError) as exc:
        do_create_party(world.specialist, {"name": "赵磊", "project": world.project, "id_number": "11010519491231002x"})
    assert "id_number" in _errors(exc)


def test_roles_without_permission_cannot_write(world):
    inspector = make_staff("qc", Role.INSPECTOR, ScopeLevel.PROJECT, project=world.project)
    with pytest.raises(PermissionDenied):
        do_update_party(inspector, world.owner_a, {"note": "x"})
    with pytest.raises(PermissionDenied):
        do_create_building(world.specialist, {"project": world.project, "name": "9栋", "number": 9})
    assert not Building.objects.filter(name="9栋").exists()


def test_linking_a_unit_records_only_the_link_in_both_histories(world):
    from datetime import date

    from guanjia.core.history import history_for
    from guanjia.estate.services import do_add_occupancy

    do_add_occupancy(world.specialist, world.owner_a, world.unit_b, "tenant", date(2025, 3, 1))
    for obj in (world.unit_b, world.owner_a):
        change = history_for(obj).get()
        assert list(change.changes) == ["occupancy"]
