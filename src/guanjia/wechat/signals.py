"""The hook from service requests to WeChat: a case event a customer hears about queues template messages.

The notification layer has no registry of channels (its recipients are staff), so the bridge
listens to new `CaseEvent` rows itself. The receiver only schedules work for after the commit,
and only while the bridge is configured and for the few event kinds customers are told about:
intake, the hottest write, pays one dictionary look-up when WeChat is not in use.
"""

import logging

from django.db import transaction

from . import config

logger = logging.getLogger(__name__)


def on_case_event_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if not created or raw or not config.enabled():
        return
    from .services import message_kind

    if message_kind(instance) is None:
        return
    event_id = instance.pk
    transaction.on_commit(lambda: _queue(event_id))


def _queue(event_id: int) -> None:
    from .services import queue_case_event_messages

    try:
        queue_case_event_messages(event_id)
    except Exception:
        # The case change is committed already; a WeChat failure must not turn it into an error page.
        logger.exception("queueing WeChat messages for case event %s failed", event_id)
