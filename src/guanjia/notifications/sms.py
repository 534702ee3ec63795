"""Text messages to staff through an SMS provider, behind one small interface.

The provider contract (a backend is any subclass of `SmsGateway`):

* `send(phone, template_code, params) -> str` sends one message and returns the provider's
  message id. `phone` is a mainland mobile number as stored on the staff record (11 digits,
  e.g. 13812345678). `template_code` is one of our notification kinds ("sla_escalated",
  "risk_flagged", …) mapped through `settings.GUANJIA_SMS_TEMPLATES` to the provider's
  registered template id: mainland providers only send pre-approved templates with a registered
  signature. `params` are the template's variables, all strings (e.g. {"number": "TS-20251123-0001",
  "title": "…"}).
* It raises `SmsError` when the provider refuses or cannot be reached; it must time out in a few
  seconds rather than hang. The caller records the error; it never retries, so that nobody gets
  the same text twice.
* It must not log the full phone number (personal data): use `mask_phone`.

`settings.GUANJIA_SMS_BACKEND` is the dotted path of the backend class; the default,
`LogSmsGateway`, writes the message to the log and sends nothing.
"""

import logging
import uuid
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from guanjia.estate.identity import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "guanjia.notifications.sms.LogSmsGateway"


class SmsError(Exception):
    """The provider did not accept the message."""


class SmsGateway:
    """Base class of SMS backends; see the module docstring for the contract."""

    def send(self, phone: str, template_code: str, params: Mapping[str, str]) -> str:
        raise NotImplementedError


class LogSmsGateway(SmsGateway):
    """Writes each message to the log (phone masked) instead of sending it: the default, for demos and tests."""

    def send(self, phone: str, template_code: str, params: Mapping[str, str]) -> str:
        message_id = f"log-{uuid.uuid4().hex[:12]}"
        logger.info("SMS %s to %s template=%s params=%s", message_id, mask_phone(phone), template_code, dict(params))
        return message_id


@lru_cache(maxsize=4)
def _gateway_for(path: str) -> SmsGateway:
    return import_string(path)()


def get_gateway() -> SmsGateway:
    """The configured backend (one instance per backend path, so a provider client is built once)."""
    return _gateway_for(getattr(settings, "GUANJIA_SMS_BACKEND", DEFAULT_BACKEND) or DEFAULT_BACKEND)


def template_code(kind: str) -> str:
    """The provider's template id for a notification kind (the kind itself when not mapped)."""
    return getattr(settings, "GUANJIA_SMS_TEMPLATES", {}).get(kind, kind)
