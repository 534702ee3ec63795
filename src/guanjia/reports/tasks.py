"""Background jobs of reports: drafting the periodic reports whose period has ended, and keeping
the daily roll-up of the figures (`rollup.py`) that the dashboards read.

The job runs every hour, so drafts appear soon after midnight (Beijing) whatever the worker's
clock says; each run only creates the drafts that do not exist yet (keyed on kind, scope and
period), so running it twice, late or on several workers at once changes nothing.
"""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .rollup import refresh_case_stats
from .services import do_generate_due_reports

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="20"))
def generate_periodic_reports() -> int:
    created = do_generate_due_reports()
    if created:
        logger.info("drafted %s periodic reports", len(created))
    return len(created)


@db_periodic_task(crontab(minute="*/5"))
def refresh_daily_case_stats() -> int:
    """Recount the days touched since the last run: dashboards read the days before today from
    there while it is at most GUANJIA_CASE_STATS_MAX_AGE old."""
    return refresh_case_stats().days


@db_periodic_task(crontab(hour="3", minute="40"))
def rebuild_daily_case_stats() -> int:
    """Recount every day once a night, for changes no `updated_at` shows (bulk loads, hand edits)."""
    return refresh_case_stats(full=True).days
