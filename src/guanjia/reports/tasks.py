"""Background jobs of reports: drafting the periodic reports whose period has ended.

The job runs every hour, so drafts appear soon after midnight (Beijing) whatever the worker's
clock says; each run only creates the drafts that do not exist yet (keyed on kind, scope and
period), so running it twice, late or on several workers at once changes nothing.
"""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import do_generate_due_reports

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="20"))
def generate_periodic_reports() -> int:
    created = do_generate_due_reports()
    if created:
        logger.info("drafted %s periodic reports", len(created))
    return len(created)
