"""Compiled look-ups answer exactly what their queryset answers, for every new value they are given."""

from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from guanjia.cases.choices import CaseType, Channel
from guanjia.cases.models import CaseUnit
from guanjia.cases.services import do_record_case
from guanjia.core.compiled import CompiledQuery
from guanjia.estate.models import Unit

pytestmark = pytest.mark.django_db

UNITS = CompiledQuery(
    Unit, lambda ids: Unit.objects.select_related("building", "entrance").filter(pk__in=ids).order_by("pk")
)


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_rows_and_related_objects_are_the_querysets(world, django_assert_num_queries):
    ids = [world.unit_a.pk, world.unit_b.pk]
    expected = list(Unit.objects.select_related("building", "entrance").filter(pk__in=ids).order_by("pk"))
    UNITS.all(ids=ids)  # compiled here
    with django_assert_num_queries(1):
        found = UNITS.all(ids=ids)
        assert [u.building.name for u in found] == ["1栋", "3栋"]
        assert [u.entrance.name for u in found] == ["1单元", "2单元"]
    assert [_fields(u) for u in found] == [_fields(u) for u in expected]
    assert found[0]._state.adding is False and found[0]._state.db == "default"


def test_each_call_sends_its_own_values(world):
    assert [u.pk for u in UNITS.all(ids=[world.unit_a.pk])] == [world.unit_a.pk]
    assert [u.pk for u in UNITS.all(ids=[world.unit_b.pk])] == [world.unit_b.pk]
    assert [u.pk for u in UNITS.all(ids={world.other_unit.pk, world.unit_a.pk})] == sorted(
        [world.unit_a.pk, world.other_unit.pk]
    )
    assert UNITS.all(ids=[world.unit_a.pk + 10_000]) == []


def test_a_value_used_twice_is_sent_to_both_places(world):
    either = CompiledQuery(Unit, lambda pk: Unit.objects.filter(pk=pk).filter(Q(pk=pk) | Q(entrance_id=pk)))
    assert either.all(pk=world.unit_a.pk) == [world.unit_a]
    assert either.all(pk=world.unit_b.pk) == [world.unit_b]


def test_no_ids_and_an_id_beyond_any_column_find_nothing_as_with_the_orm(world):
    by_id = CompiledQuery(Unit, lambda pk: Unit.objects.filter(pk=pk))
    assert by_id.first(pk=world.unit_a.pk) == world.unit_a
    assert by_id.all(pk=2**70) == list(Unit.objects.filter(pk=2**70)) == []
    assert UNITS.all(ids=[]) == []


def test_times_are_sent_as_the_database_stores_them(world):
    """A time window, as the repeat check uses: the edges are inclusive and move with the values."""
    w = world
    case = do_record_case(
        w.specialist,
        project=w.project,
        case_type=CaseType.REPAIR,
        channel=Channel.HOTLINE,
        description="卫生间漏水",
        units=[w.unit_a],
        party=w.owner_a,
    )
    links = CompiledQuery(
        CaseUnit,
        lambda since, until: CaseUnit.objects.filter(received_at__gte=since, received_at__lte=until).select_related(
            "case"
        ),
    )
    at = case.received_at
    assert [link.case.number for link in links.all(since=at, until=at)] == [case.number]
    assert links.all(since=at + timedelta(microseconds=1), until=at + timedelta(days=1)) == []
    assert len(links.all(since=at - timedelta(days=1), until=timezone.now())) == 1


def test_none_and_booleans_compile_apart(world):
    w = world
    in_entrance = CompiledQuery(Unit, lambda number, entrance: Unit.objects.filter(number=number, entrance_id=entrance))
    assert in_entrance.all(number="501", entrance=w.e1.pk) == [w.unit_a]
    assert in_entrance.all(number="501", entrance=None) == []  # IS NULL, not "= NULL" with the id swapped in
    assert in_entrance.all(number="501", entrance=w.e1.pk) == [w.unit_a]
    bare = CompiledQuery(Unit, lambda number, bare: Unit.objects.filter(number=number, entrance__isnull=bare))
    assert bare.all(number="501", bare=False) == [w.unit_a]
    assert bare.all(number="501", bare=True) == []


def test_annotations_and_deferred_fields_come_back_as_from_the_orm(world, django_assert_num_queries):
    with_count = CompiledQuery(
        Unit,
        lambda pk: Unit.objects.filter(pk=pk).only("number").annotate(links=Count("occupancies")),
    )
    unit = with_count.first(pk=world.unit_a.pk)
    assert unit.links == world.unit_a.occupancies.count() == 1
    assert unit.get_deferred_fields() >= {"floor"}
    with django_assert_num_queries(1):
        assert unit.floor == 5  # read on demand, as a deferred field always is


def test_a_look_up_that_changes_its_value_is_refused_when_compiled(world):
    containing = CompiledQuery(Unit, lambda text: Unit.objects.filter(number__contains=text))
    with pytest.raises(ValueError, match="changes the values of"):
        containing.all(text="50")


def test_shapes_beyond_the_kept_compilations_still_answer(world, monkeypatch):
    monkeypatch.setattr("guanjia.core.compiled.MAX_PLANS", 2)
    units = CompiledQuery(Unit, lambda ids: Unit.objects.filter(pk__in=ids).order_by("pk"))
    everyone = [world.unit_a.pk, world.unit_b.pk, world.other_unit.pk]
    for extra in range(1, 6):
        padding = list(range(10_000, 10_000 + extra))
        assert [u.pk for u in units.all(ids=everyone + padding)] == sorted(everyone)
    assert len(units._plans.__dict__) == 2
