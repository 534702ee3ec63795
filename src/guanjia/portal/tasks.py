"""Background upkeep of the portal: forget expired codes, sessions and rate-limit counts every hour."""

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import throttle
from .models import PortalSession, SignInCode

# Codes are kept a day after expiry, so a support question ("I got no code") can still be answered.
KEEP_CODES = timedelta(days=1)


def purge_expired(now=None) -> int:
    now = now or timezone.now()
    removed = throttle.purge(now)
    removed += SignInCode.objects.filter(expires_at__lt=now - KEEP_CODES).delete()[0]
    removed += PortalSession.objects.filter(expires_at__lt=now).delete()[0]
    return removed


@db_periodic_task(crontab(minute="23"))
def purge_portal_records() -> int:
    return purge_expired()
