"""Rate limits of the portal, counted in the database so that every web process sees the same counts.

A limit is a list of (count, window) pairs: it is exceeded when `count` events of that kind for
that key already happened within `window`. The events are `RateEvent` rows; counting them is one
indexed query per pair. Expired rows are removed by the hourly cleanup (`tasks.py`).
"""

from datetime import datetime, timedelta

from django.utils import timezone

from .models import RateEvent

# Kinds of counted events.
CODE_PHONE = "code_phone"
CODE_IP = "code_ip"
FAIL_PHONE = "fail_phone"
FAIL_IP = "fail_ip"
BIND_ACCOUNT = "bind_account"
BIND_UNIT = "bind_unit"
LOCKOUT = "lockout"

# The longest window any default limit uses; rows older than this are useless.
KEEP_FOR = timedelta(days=2)


def count(kind: str, key, window: timedelta, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return RateEvent.objects.filter(kind=kind, key=str(key), at__gt=now - window).count()


def exceeded(kind: str, key, limits, now: datetime | None = None) -> timedelta | None:
    """How long to wait before the next event is allowed, or None when every pair still holds."""
    now = now or timezone.now()
    wait = None
    for limit, window in limits:
        recent = RateEvent.objects.filter(kind=kind, key=str(key), at__gt=now - window).order_by("-at")
        times = list(recent.values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            # The oldest of the last `limit` events must leave the window first.
            free_at = times[-1] + window
            wait = max(wait or timedelta(0), free_at - now)
    return wait


def hit(kind: str, key, now: datetime | None = None) -> None:
    RateEvent.objects.create(kind=kind, key=str(key)[:64], at=now or timezone.now())


def clear(kind: str, key) -> None:
    RateEvent.objects.filter(kind=kind, key=str(key)).delete()


def purge(now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = RateEvent.objects.filter(at__lt=now - KEEP_FOR).delete()
    return deleted
