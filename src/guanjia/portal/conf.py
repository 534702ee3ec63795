"""Portal settings with their defaults. Each can be overridden in Django settings (see docs/portal.md).

Read through these functions at call time, so tests and operators can change them without a restart
of anything but the web process.
"""

from datetime import timedelta

from django.conf import settings

DEFAULTS = {
    # Sign-in codes: length and lifetime.
    "GUANJIA_PORTAL_CODE_LENGTH": 6,
    "GUANJIA_PORTAL_CODE_TTL": timedelta(minutes=5),
    # Code sending: (count, window) pairs; every pair must hold.
    "GUANJIA_PORTAL_CODE_LIMITS_PER_PHONE": [(1, timedelta(minutes=1)), (5, timedelta(hours=1))],
    "GUANJIA_PORTAL_CODE_LIMITS_PER_IP": [(5, timedelta(minutes=1)), (20, timedelta(hours=1))],
    # Wrong codes: this many for one phone within the window lock the phone for the lockout time.
    "GUANJIA_PORTAL_SIGN_IN_FAILURES": 5,
    "GUANJIA_PORTAL_SIGN_IN_WINDOW": timedelta(minutes=15),
    "GUANJIA_PORTAL_LOCKOUT": timedelta(minutes=15),
    # Wrong codes from one address (many phones tried from one place).
    "GUANJIA_PORTAL_SIGN_IN_FAILURES_PER_IP": 20,
    # Binding by name and ID digits: failures per account and per unit within a day.
    "GUANJIA_PORTAL_BIND_FAILURES_PER_ACCOUNT": 5,
    "GUANJIA_PORTAL_BIND_FAILURES_PER_UNIT": 10,
    "GUANJIA_PORTAL_BIND_WINDOW": timedelta(days=1),
    # The owner's session in the portal cookie.
    "GUANJIA_PORTAL_SESSION_AGE": timedelta(days=30),
    "GUANJIA_PORTAL_COOKIE_NAME": "gj_portal",
    # Photos: how many per request, the largest upload accepted, and the size they are stored at.
    "GUANJIA_PORTAL_MAX_PHOTOS": 9,
    "GUANJIA_PORTAL_MAX_PHOTO_BYTES": 10 * 1024 * 1024,
    "GUANJIA_PORTAL_MAX_PHOTO_PIXELS": 50_000_000,
    "GUANJIA_PORTAL_PHOTO_EDGE": 2048,
    # What a rating of 1 or 2 stars does when it completes the follow-up: "reopen" or "escalate".
    "GUANJIA_PORTAL_LOW_RATING": "reopen",
    # Take the client address from the last X-Forwarded-For entry (only behind a proxy that sets it).
    "GUANJIA_PORTAL_TRUST_X_FORWARDED_FOR": False,
}


def get(name: str):
    value = getattr(settings, name, DEFAULTS[name])
    default = DEFAULTS[name]
    if isinstance(default, timedelta) and isinstance(value, int | float):
        # A number is a count of seconds, as in an environment variable.
        return timedelta(seconds=value)
    return value
