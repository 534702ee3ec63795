"""The read-replica router: settings from DATABASE_REPLICA_URL, and which alias reads and writes go to.

Where report queries actually go is tested end to end in reports/tests/test_replica.py.
"""

import runpy
import threading

import pytest
from django.conf import settings as django_settings

from guanjia.cases.models import Case
from guanjia.core.db_router import REPLICA, ROUTER, ReplicaRouter, read_db, replica_iter, replica_reads
from guanjia.estate.models import Unit


def load_settings(monkeypatch, tmp_path, **env) -> dict:
    """The settings module run afresh with this environment (nothing else is touched)."""
    import guanjia.settings

    for name in ("DATABASE_URL", "DATABASE_REPLICA_URL", "GUANJIA_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GUANJIA_VAR_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(guanjia.settings.__file__)


def test_without_a_replica_there_is_one_database_and_no_router(monkeypatch, tmp_path):
    conf = load_settings(monkeypatch, tmp_path, DATABASE_URL="postgres://guanjia@db.internal:5432/guanjia")
    assert list(conf["DATABASES"]) == ["default"]
    assert "DATABASE_ROUTERS" not in conf


def test_replica_url_adds_the_alias_and_the_router(monkeypatch, tmp_path):
    conf = load_settings(
        monkeypatch,
        tmp_path,
        DATABASE_URL="postgres://guanjia@db-primary.internal:5432/guanjia",
        DATABASE_REPLICA_URL="postgres://reader@db-replica.internal:5433/guanjia",
    )
    replica = conf["DATABASES"][REPLICA]
    assert replica["ENGINE"] == "django.db.backends.postgresql"
    assert (replica["HOST"], replica["PORT"], replica["USER"], replica["NAME"]) == (
        "db-replica.internal",
        5433,
        "reader",
        "guanjia",
    )
    assert conf["DATABASES"]["default"]["HOST"] == "db-primary.internal"
    # Tests read the test database through the alias rather than creating a second one.
    assert replica["TEST"] == {"MIRROR": "default"}
    assert conf["DATABASE_ROUTERS"] == [ROUTER]


@pytest.fixture
def with_replica():
    """Only the presence of the alias in settings matters to the router; no connection is made."""
    django_settings.DATABASES[REPLICA] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    yield
    del django_settings.DATABASES[REPLICA]


def test_reads_go_to_the_replica_only_inside_replica_reads(with_replica):
    router = ReplicaRouter()
    assert router.db_for_read(Case) == "default"
    assert read_db() == "default"
    with replica_reads():
        assert router.db_for_read(Case) == REPLICA
        assert router.db_for_read(Unit) == REPLICA
        with replica_reads():  # nested
            assert read_db() == REPLICA
        assert read_db() == REPLICA
        # Writes, and the sessions a reader has just written, stay on the primary.
        assert router.db_for_write(Case) == "default"
        from django.contrib.sessions.models import Session

        assert router.db_for_read(Session) == "default"
    assert router.db_for_read(Case) == "default"
    assert read_db() == "default"


def test_the_flag_is_cleared_when_the_block_fails(with_replica):
    with pytest.raises(RuntimeError), replica_reads():
        raise RuntimeError("report failed")
    assert read_db() == "default"


def test_without_a_replica_the_flag_changes_nothing():
    assert REPLICA not in django_settings.DATABASES
    with replica_reads():
        assert read_db() == "default"
        assert ReplicaRouter().db_for_read(Case) == "default"


def test_the_flag_belongs_to_one_thread(with_replica):
    """A web process serves several requests at once in threads: one report must not move the others."""
    inside, release = threading.Event(), threading.Event()
    seen = {}

    @replica_reads()
    def report():
        seen["report"] = read_db()
        inside.set()
        release.wait(5)

    worker = threading.Thread(target=report)
    worker.start()
    assert inside.wait(5)
    seen["other"] = read_db()  # this thread, while the report runs
    release.set()
    worker.join(5)
    assert seen == {"report": REPLICA, "other": "default"}


def test_a_streamed_iterator_reads_the_replica_only_while_producing_a_piece(with_replica):
    produced = []

    def pieces():
        for n in range(3):
            produced.append(read_db())
            yield n

    for _ in replica_iter(pieces()):
        assert read_db() == "default"  # between pieces, e.g. while the server sends one
    assert produced == [REPLICA] * 3


def test_no_migrations_on_the_replica_and_objects_of_both_may_be_related():
    router = ReplicaRouter()
    assert router.allow_migrate(REPLICA, "cases") is False
    assert router.allow_migrate("default", "cases") is None
    a, b = Case(), Unit()
    a._state.db, b._state.db = REPLICA, "default"
    assert router.allow_relation(a, b) is True
