"""Background upkeep of the database itself.

SQLite keeps its planner statistics (`sqlite_stat1`) only when asked: without them it cannot tell
a column where most rows share a value (the status) from one that picks out a few (the owner), and
lists slow down as the tables grow. PostgreSQL's autovacuum keeps its statistics by itself.
"""

import logging

from django.db import connection
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

logger = logging.getLogger(__name__)

# A table's statistics are refreshed once its row count has moved this much since they were taken.
STALE_RATIO = 1.25


def refresh_planner_statistics() -> list[str]:
    """Refresh SQLite's statistics of the tables that grew or shrank by a quarter since; their names.

    Nothing to do on PostgreSQL. Only stale tables: a full ANALYZE of a million requests takes 2 to
    15 s, during which writers wait (within `busy_timeout`); sampled statistics (`analysis_limit`)
    read only the first rows of each index and miss how many rows share an owner or a category,
    which is what the plans turn on.
    """
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'index' AND tbl_name NOT LIKE 'sqlite_%'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        known: dict[str, int] = {}
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone():
            cursor.execute("SELECT tbl, stat FROM sqlite_stat1")
            for table, stat in cursor.fetchall():
                # The first figure is the rows an index covers; the table's own is the largest.
                known[table] = max(known.get(table, 0), int(str(stat).split()[0]))
        stale = []
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608 (a table name from sqlite_master)
            rows = cursor.fetchone()[0]
            before = known.get(table)
            if rows and (not before or not before / STALE_RATIO <= rows <= before * STALE_RATIO):
                cursor.execute(f"ANALYZE {quoted}")
                stale.append(table)
    return stale


@db_periodic_task(crontab(hour="3", minute="10"))
def refresh_planner_statistics_nightly() -> int:
    refreshed = refresh_planner_statistics()
    if refreshed:
        logger.info("refreshed the planner statistics of %s", ", ".join(refreshed))
    return len(refreshed)
