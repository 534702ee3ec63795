"""Background jobs of the WeChat bridge: sending template messages, and a minute sweep for leftovers.

Safe to run twice or on several workers: each message is claimed before it is sent.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .services import deliver_template_messages as _deliver


@db_task()
def deliver_template_messages() -> int:
    """Send the template messages written since the last delivery."""
    return _deliver().claimed


@db_periodic_task(crontab(minute="*"))
def deliver_template_messages_left_behind() -> int:
    return _deliver().claimed
