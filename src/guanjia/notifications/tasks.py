"""Background jobs of notifications: the SLA sweep every minute and the delivery of e-mail and SMS.

Both are safe to run twice, late or on several workers at once: the sweep records each breach
once (see `sweep.py`) and delivery claims each notification before sending it.
"""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .services import deliver_pending
from .sweep import sweep_sla

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def run_sla_sweep() -> int:
    """Record and notify missed deadlines, then send anything an earlier delivery job left behind."""
    result = sweep_sla()
    deliver_pending()
    return result.recorded


@db_task()
def deliver_notifications() -> int:
    """Send the e-mails and text messages of notifications created since the last delivery."""
    return deliver_pending().claimed
