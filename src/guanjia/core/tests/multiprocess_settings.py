"""Settings of the processes that tests start (web servers, workers): the real ones, with e-mail and
SMS written to the outbox file of `outbox.py` instead of being sent."""

from guanjia.settings import *  # noqa: F403

EMAIL_BACKEND = "guanjia.core.tests.outbox.RecordingEmailBackend"
GUANJIA_SMS_BACKEND = "guanjia.core.tests.outbox.RecordingSmsGateway"
