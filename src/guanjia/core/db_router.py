"""Reports read from a PostgreSQL read replica when one is configured; everything else uses the primary.

`DATABASE_REPLICA_URL` adds the database alias `replica` and installs `ReplicaRouter`
(settings.py). Without it there is no router and every query goes to `default`.

Which reads go to the replica is decided by a flag, not by the model: code that runs inside
`replica_reads()` (a context manager and decorator) reads from the replica, all other code from
the primary, and writes always go to the primary. The flag is set where report figures are
computed, not where pages start:

* `reports.metrics` (`compute`, `snapshot`, `hot_spots`): every figure of the dashboards, the
  metrics API, periodic reports and their xlsx/PDF;
* `reports.dashboard.build_dashboard` and `reports.periodic.report_data` around them;
* `reports.exports.cases_xlsx_response`: the streamed rows (`replica_iter`, because the rows
  are read after the view has returned).

Why a flag rather than `.using("replica")` on each queryset: a report reaches far beyond its
own module (scoping querysets from `cases.queries`, `Exists` subqueries, label look-ups of
companies, buildings and categories, related objects read while a page is drawn), and a missed
`.using()` would silently read the primary, while an explicit alias on a queryset that is later
combined with one from the primary fails. Inside the flag every read follows, whatever code
issues it. Why not route by model: the same tables (cases, units) are read by the workbench,
which must see a request the moment it was saved, and by reports, which tolerate a replica a
few seconds behind. Read-your-own-writes pages (the workbench, a report's commentary just
saved, sign-in and sessions) therefore stay on the primary.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ContextDecorator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
ROUTER = "guanjia.core.db_router.ReplicaRouter"

_reading_reports: ContextVar[bool] = ContextVar("guanjia_replica_reads", default=False)

# Rows a reader must see right after writing them: a replica a moment behind would sign people out.
_PRIMARY_ONLY_APPS = frozenset({"sessions"})


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def read_db() -> str:
    """The alias reads go to right now: the replica inside `replica_reads()` when there is one."""
    return REPLICA if _reading_reports.get() and replica_configured() else DEFAULT_DB_ALIAS


class replica_reads(ContextDecorator):
    """Reads inside go to the replica (if configured); nesting is fine, writes still go to the primary."""

    def __init__(self):
        self._token = None

    def _recreate_cm(self):
        # As a decorator: a fresh instance per call, so threads and recursion never share a token.
        return type(self)()

    def __enter__(self):
        self._token = _reading_reports.set(True)
        return self

    def __exit__(self, *exc):
        _reading_reports.reset(self._token)
        return False


def replica_iter(iterable: Iterable) -> Iterator:
    """Iterate `iterable` with replica reads on while each item is produced, and off in between.

    For generators that run after the view has returned (streamed responses): the flag is not
    left set in the server thread between two pieces.
    """
    iterator = iter(iterable)
    while True:
        with replica_reads():
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


class ReplicaRouter:
    """Reads inside `replica_reads()` go to the replica; all other reads and every write to the primary."""

    def db_for_read(self, model, **hints):
        if _reading_reports.get() and model._meta.app_label not in _PRIMARY_ONLY_APPS and replica_configured():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same rows: an object read from the replica may be linked to one from the primary.
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None} or None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A streaming replica is read-only and follows the primary's schema.
        return False if db == REPLICA else None
