"""The nightly refresh of SQLite's planner statistics, which the lists' plans depend on."""

from datetime import datetime

from django.db import connection
from huey.contrib.djhuey import HUEY

from guanjia.cases.tests.conftest import record
from guanjia.core.tasks import refresh_planner_statistics


def _case_statistics() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchall():
            return set()
        cursor.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'cases_case'")
        return {row[0] for row in cursor.fetchall()}


def test_sqlite_statistics_are_refreshed_and_postgresql_is_left_to_autovacuum(world):
    record(world.specialist, world.project, description="咨询物业费")
    if connection.vendor != "sqlite":
        assert refresh_planner_statistics() == []
        return
    if _case_statistics():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_stat1")
    assert _case_statistics() == set()
    assert "cases_case" in refresh_planner_statistics()
    assert {"case_received", "case_owner_status"} <= _case_statistics()
    # Fresh statistics are left alone until the table grows by a quarter.
    assert "cases_case" not in refresh_planner_statistics()
    record(world.specialist, world.project, description="咨询停车费")
    record(world.specialist, world.project, description="咨询装修手续")
    assert "cases_case" in refresh_planner_statistics()


def test_the_refresh_runs_every_night_on_the_worker():
    task = next(t for t in HUEY._registry.periodic_tasks if t.name == "refresh_planner_statistics_nightly")
    assert task.validate_datetime(datetime(2026, 12, 3, 3, 10))
    assert not task.validate_datetime(datetime(2026, 12, 3, 15, 10))
