"""Case numbers: readable, one sequence per day, unique under concurrent intake."""

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from guanjia.cases.models import Case, RoutingRule
from guanjia.cases.numbering import next_case_number

from .conftest import at, record


def test_numbers_count_up_per_day(cw, clock):
    clock.set(at(2025, 11, 23, 9, 0))
    first, second = record(cw.specialist, cw.project), record(cw.front_desk, cw.project)
    assert (first.number, second.number) == ("TS-20251123-0001", "TS-20251123-0002")
    clock.set(at(2025, 11, 24, 0, 5))  # local midnight has passed although UTC is still on the 23rd
    assert record(cw.specialist, cw.project).number == "TS-20251124-0001"


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a real server; SQLite's in-memory test database is shared"
)


def _in_threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@needs_postgres
# Seeded categories and policies survive the flush after these tests.
@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_get_unique_consecutive_numbers_and_take_turns(world, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from guanjia.org.choices import Role, ScopeLevel
    from guanjia.testing import make_staff

    team = [
        make_staff(f"h{i}", Role.HANDLER, ScopeLevel.PROJECT, project=world.project, department=world.dept)
        for i in range(2)
    ]
    rule = RoutingRule.objects.create(name="轮流", department=world.dept)
    rule.team.set(team)
    threads, per_thread = 8, 3

    def work(i):
        for _ in range(per_thread):
            record(world.specialist, world.project)

    assert _in_threads(threads, work) == []
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == threads * per_thread
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, threads * per_thread + 1))
    per_member = [Case.objects.filter(assignee=m).count() for m in team]
    assert per_member == [threads * per_thread // 2] * 2


@needs_postgres
# Seeded categories and policies survive the flush after these tests.
@pytest.mark.django_db(transaction=True)
def test_numbers_of_a_fresh_day_are_unique_when_the_counter_row_is_created_concurrently():
    day = date(2031, 1, 1)
    taken: list[str] = []

    def work(i):
        with transaction.atomic():
            taken.append(next_case_number(day))

    assert _in_threads(10, work) == []
    assert sorted(taken) == [f"TS-20310101-{n:04d}" for n in range(1, 11)]
