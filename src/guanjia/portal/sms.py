"""Sign-in codes by text message, through the project's SMS gateway (`guanjia.notifications.sms`).

The template code is `portal_sign_in_code` (map it to the provider's approved template through
`GUANJIA_SMS_TEMPLATES`); its one variable is `code`. While no real gateway is configured (the log
backend, which only writes the masked number and the variables to the log) or in DEBUG, the message
is also kept in `DevOutboxMessage` so that an administrator can read demo codes on the console's
developer page. With a real gateway outside DEBUG nothing but the code's digest is stored.
"""

from django.conf import settings

from guanjia.notifications.sms import LogSmsGateway, get_gateway, template_code

from .models import DevOutboxMessage

SIGN_IN_TEMPLATE = "portal_sign_in_code"
# The developer page shows the newest messages only.
OUTBOX_KEEP = 50


def dev_outbox_enabled() -> bool:
    """True while codes may be shown to administrators: DEBUG, or the log backend (nothing really sent)."""
    return bool(settings.DEBUG) or isinstance(get_gateway(), LogSmsGateway)


def send_sign_in_code(phone: str, code: str) -> str:
    """Send the code; returns the provider's message id. Raises `SmsError` when the provider refuses."""
    params = {"code": code}
    message_id = get_gateway().send(phone, template_code(SIGN_IN_TEMPLATE), params)
    if dev_outbox_enabled():
        DevOutboxMessage.objects.create(phone=phone, template_code=SIGN_IN_TEMPLATE, params=params)
        stale = DevOutboxMessage.objects.order_by("-created_at", "-id").values_list("pk", flat=True)[OUTBOX_KEEP:]
        DevOutboxMessage.objects.filter(pk__in=list(stale)).delete()
    return message_id
