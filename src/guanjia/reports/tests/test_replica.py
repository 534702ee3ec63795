"""With a read replica configured, report queries read from it and everything else from the primary.

The stand-in replica is a second connection alias to the same test database (as Django's test
mirror does), so the figures are the same; each connection's query log shows which one a query
went to. The test is transactional: the second connection only sees committed rows.
"""

import copy
import re

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from guanjia.core.db_router import REPLICA, ROUTER, read_db, replica_reads
from guanjia.core.models import ApiToken
from guanjia.reports import services
from guanjia.reports.choices import ReportKind, ReportStatus
from guanjia.reports.models import Report

from .conftest import OCTOBER

pytestmark = pytest.mark.django_db(transaction=True)

CASES_TABLE = re.compile(r'\bFROM\s+"?cases_case"?', re.I)


@pytest.fixture
def replica(october, settings):
    """A `replica` alias reading the test database, and the router switched on, for one test."""
    primary = connections["default"].settings_dict
    mirror = copy.deepcopy(primary)
    mirror["TEST"] = {**mirror.get("TEST", {}), "MIRROR": "default"}
    connections.settings[REPLICA] = mirror  # the same dict as settings.DATABASES
    settings.DATABASE_ROUTERS = [ROUTER]
    settings.GUANJIA_DASHBOARD_CACHE_SECONDS = 0
    connection = connections[REPLICA]
    # Connect now: the test case forbids opening connections to aliases it was not told about.
    connection.connect()
    try:
        yield connection
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


class Queries:
    """The SQL each alias ran inside the block."""

    def __init__(self):
        self.primary = CaptureQueriesContext(connections["default"])
        self.replica = CaptureQueriesContext(connections[REPLICA])

    def __enter__(self):
        self.primary.__enter__()
        self.replica.__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    @staticmethod
    def _sql(ctx, pattern=None):
        return [q["sql"] for q in ctx.captured_queries if pattern is None or pattern.search(q["sql"])]

    def on_primary(self, pattern=None):
        return self._sql(self.primary, pattern)

    def on_replica(self, pattern=None):
        return self._sql(self.replica, pattern)


def writes(sql: list[str]) -> list[str]:
    return [q for q in sql if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_metrics_api_counts_on_the_replica(client, october, replica):
    _, raw = ApiToken.issue(october.world.admin, "replica test")
    with Queries() as q:
        response = client.get(
            "/api/v1/reports/metrics",
            {"start": "2025-10-01", "end": "2025-11-01", "breakdown": "project"},
            headers={"Authorization": f"Bearer {raw}"},
        )
    assert response.status_code == 200, response.content
    assert response.json()["total"]["received"] == 6  # the same figures as without a replica
    assert q.on_replica(CASES_TABLE), "the figures were not counted on the replica"
    assert not q.on_primary(CASES_TABLE), q.on_primary(CASES_TABLE)
    assert not writes(q.on_replica())


def test_dashboard_counts_on_the_replica_and_signs_in_on_the_primary(client, october, replica):
    client.force_login(october.world.admin)
    with Queries() as q:
        response = client.get("/reports/")
    assert response.status_code == 200
    assert q.on_replica(CASES_TABLE)
    assert not q.on_primary(CASES_TABLE), q.on_primary(CASES_TABLE)
    # The session and the signed-in user are read where they were written.
    assert q.on_primary(re.compile(r"django_session")) and not q.on_replica(re.compile(r"django_session"))


def test_export_streams_rows_read_from_the_replica(client, october, replica):
    client.force_login(october.world.admin)
    with Queries() as q:
        response = client.get("/reports/cases.xlsx", {"view": "all"})
        body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body.startswith(b"PK")
    assert q.on_replica(CASES_TABLE)
    assert not q.on_primary(CASES_TABLE), q.on_primary(CASES_TABLE)
    # Between two pieces of the stream the server thread is back on the primary.
    assert read_db() == "default"


def test_periodic_report_reads_figures_on_the_replica_and_writes_the_primary(october, replica):
    w = october.world
    with Queries() as q:
        report, created = services.do_generate_report(ReportKind.MONTHLY, "company", w.company.pk, OCTOBER)
        report = services.do_submit_report(w.manager, report, "十月投诉以噪音为主。")
    assert created
    assert q.on_replica(CASES_TABLE)
    assert not q.on_primary(CASES_TABLE)
    assert writes(q.on_primary()) and not writes(q.on_replica())
    stored = Report.objects.using("default").get(pk=report.pk)
    assert stored.status == ReportStatus.SUBMITTED
    assert stored.snapshot["figures"]["total"]["received"] == 5


def test_workbench_reads_the_primary(client, october, replica):
    """Everything outside reports (here the workbench list) reads the primary."""
    client.force_login(october.world.admin)
    with Queries() as q:
        response = client.get("/cases/", {"view": "all"})
    assert response.status_code == 200
    assert q.on_primary(CASES_TABLE)
    assert not q.on_replica()


def test_writes_inside_replica_reads_go_to_the_primary(october, replica):
    from guanjia.cases.models import Case

    with replica_reads(), Queries() as q:
        assert read_db() == REPLICA
        case = Case.objects.get(pk=october.c5.pk)  # read from the replica
        assert case._state.db == REPLICA
        case.description = "楼上装修噪音太大（已回电）"
        case.save(update_fields=["description"])
    assert writes(q.on_primary()) and not writes(q.on_replica())
    assert Case.objects.using("default").get(pk=case.pk).description.endswith("（已回电）")
