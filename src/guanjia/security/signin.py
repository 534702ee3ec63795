"""Throttling of staff sign-in (console login form and the admin's), built on django-axes.

Two limits, both counted over the lockout time (`AXES_COOLOFF_TIME`, 15 minutes by default):

- per account: `AXES_FAILURE_LIMIT` (5) wrong passwords for one user name lock that user name for
  the lockout time, whatever address they come from;
- per address: `GUANJIA_LOGIN_FAILURES_PER_IP` (30) failed sign-ins from one address lock every
  sign-in from that address. It is higher than the account limit because a service centre's staff
  usually share one address to the internet.

A successful sign-in forgets the user name's failures. The counters are axes' `AccessAttempt`
rows in the database (not the cache, which is per process by default), so all web processes see
the same counts. Axes' handler is extended here only to add the address limit and to write a
`SignInLockout` row when a lockout starts; the lockout page is the console's sign-in page with a
message saying how long to wait.
"""

import math
from datetime import datetime, timedelta

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanjia.portal.sessions import client_ip as _client_ip

from .models import LockoutKind, SignInLockout

DEFAULT_FAILURES_PER_IP = 30


def client_ip(request) -> str | None:
    """The address sign-ins are counted by: the same rule as the owner portal's
    (REMOTE_ADDR, or the last X-Forwarded-For entry when `GUANJIA_PORTAL_TRUST_X_FORWARDED_FOR`)."""
    return _client_ip(request)


def address_limit() -> int:
    return int(getattr(settings, "GUANJIA_LOGIN_FAILURES_PER_IP", DEFAULT_FAILURES_PER_IP))


def lockout_time() -> timedelta:
    return get_cool_off() or timedelta(minutes=15)


class StaffLoginBackend(AxesStandaloneBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a locked user name or address before any password is checked.

    It authenticates nobody itself; the next backend checks the password. A sign-in from code (the
    test client, a script) passes no request and has no address to count by, so it is let through
    to the next backend instead of failing as axes' own backend would.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class StaffLoginHandler(AxesDatabaseHandler):
    """Axes' database handler plus the per-address limit and a `SignInLockout` row per lockout."""

    def address_failures(self, request) -> int:
        ip = getattr(request, "axes_ip_address", None)
        if not ip:
            return 0
        recent = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=get_cool_off_threshold(request))
        return recent.aggregate(n=Sum("failures_since_start"))["n"] or 0

    def account_failures(self, request, credentials=None) -> int:
        return super().get_failures(request, credentials)

    def get_failures(self, request, credentials=None) -> int:
        failures = self.account_failures(request, credentials)
        if self.address_failures(request) >= address_limit():
            # The address is locked: a sign-in from it counts as locked whatever the user name.
            return max(failures, get_failure_limit(request, credentials))
        return failures

    # A sign-in made in code (the test client's login and force_login, a script) comes with a bare
    # request that has no client address: there is nobody to record, as for StaffLoginBackend.
    def user_logged_in(self, sender, request, user, **kwargs):
        if _from_a_client(request):
            super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender, request, user, **kwargs):
        if _from_a_client(request):
            super().user_logged_out(sender, request, user, **kwargs)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # Axes marks a request refused because of an existing lockout before this runs; only a
        # failure that starts a lockout is recorded as one.
        already_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or already_locked or not getattr(request, "axes_locked_out", False):
            return
        _record_lockout(self, request, credentials)


def _from_a_client(request) -> bool:
    return request is not None and bool(request.META.get("REMOTE_ADDR"))


def _record_lockout(handler: StaffLoginHandler, request, credentials) -> SignInLockout:
    username = get_client_username(request, credentials) or ""
    limit = get_failure_limit(request, credentials)
    account_failures = handler.account_failures(request, credentials)
    kind = LockoutKind.ACCOUNT if account_failures >= limit else LockoutKind.ADDRESS
    started = request.axes_attempt_time or timezone.now()
    user_model = get_user_model()
    staff = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first() if username else None
    return SignInLockout.objects.create(
        kind=kind,
        username=username[:255],
        staff=staff,
        ip=request.axes_ip_address,
        started_at=started,
        until=started + lockout_time(),
        failures=account_failures if kind == LockoutKind.ACCOUNT else handler.address_failures(request),
    )


# ------------------------------------------------------------------------------------------------ reading


def active_lockout(username: str, ip: str | None, now: datetime | None = None) -> SignInLockout | None:
    """The lockout that refuses this user name or address now (the one lasting longest), if any."""
    now = now or timezone.now()
    which = Q(kind=LockoutKind.ACCOUNT, username=username)
    if ip:
        which |= Q(kind=LockoutKind.ADDRESS, ip=ip)
    return SignInLockout.objects.filter(which, unlocked_at__isnull=True, until__gt=now).order_by("-until").first()


def minutes_text(wait: timedelta) -> str:
    minutes = max(math.ceil(wait.total_seconds() / 60), 1)
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


def lockout_message(lockout: SignInLockout | None, now: datetime | None = None) -> str:
    now = now or timezone.now()
    wait = (lockout.until - now) if lockout is not None else lockout_time()
    if lockout is not None and lockout.kind == LockoutKind.ADDRESS:
        return _("Too many failed sign-ins from your network. Try again in %(wait)s.") % {"wait": minutes_text(wait)}
    return _(
        "Too many wrong passwords: this account is locked. Try again in %(wait)s, or ask an administrator to unlock it."
    ) % {"wait": minutes_text(wait)}


def failures_left_message(request) -> str:
    """After a wrong password: how many more the user name may have before it is locked ("" when unknown)."""
    failures = getattr(request, "axes_failures_since_start", None)
    if not failures:
        return ""
    left = get_failure_limit(request, None) - failures
    if left <= 0:
        return ""
    return ngettext(
        "%(n)s more wrong password locks this account for %(wait)s.",
        "%(n)s more wrong passwords lock this account for %(wait)s.",
        left,
    ) % {"n": left, "wait": minutes_text(lockout_time())}


# ------------------------------------------------------------------------------------------------ writing


def do_unlock(lockout: SignInLockout, *, by) -> int:
    """Lift a lockout early: forget the counted failures of its user name (or address) and mark it unlocked.

    Other active lockouts of the same user name or address are lifted with it. Returns how many
    lockouts were lifted.
    """
    now = timezone.now()
    with transaction.atomic():
        if lockout.kind == LockoutKind.ACCOUNT:
            AxesProxyHandler.reset_attempts(username=lockout.username)
            same = Q(kind=LockoutKind.ACCOUNT, username=lockout.username)
        else:
            AxesProxyHandler.reset_attempts(ip_address=lockout.ip)
            same = Q(kind=LockoutKind.ADDRESS, ip=lockout.ip)
        return SignInLockout.objects.filter(same | Q(pk=lockout.pk), unlocked_at__isnull=True).update(
            unlocked_at=now, unlocked_by=by
        )


# ------------------------------------------------------------------------------------------------ response


def lockout_response(request, original_response=None, credentials=None):
    """What a refused sign-in shows (AXES_LOCKOUT_CALLABLE): the sign-in page, saying how long to wait."""
    from .forms import StaffLoginForm

    username = get_client_username(request, credentials) or ""
    lockout = active_lockout(username, getattr(request, "axes_ip_address", None))
    context = {
        "form": StaffLoginForm(request, initial={"username": username}),
        "lockout": lockout_message(lockout),
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }
    return render(request, "core/login.html", context, status=429)
