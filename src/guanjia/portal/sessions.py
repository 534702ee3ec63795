"""The owner's session: a random token in the portal's own cookie, its digest in `PortalSession`.

Owners never get a Django auth session: nothing here touches `request.user` or `django.contrib.auth`,
and the cookie is scoped to the portal's path, so a portal sign-in cannot open the staff console
and a staff session does not open the portal. Views of the portal use `portal_login_required`,
which puts the account on `request.portal_account` or sends the visitor to the sign-in page.
"""

import hashlib
import secrets
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from . import conf
from .models import PortalAccount, PortalSession

# Refresh `last_seen_at` (one UPDATE) at most this often per session.
TOUCH_EVERY_SECONDS = 300


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_path() -> str:
    return reverse("portal:home")


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the proxy's last X-Forwarded-For entry when trusted."""
    if conf.get("GUANJIA_PORTAL_TRUST_X_FORWARDED_FOR"):
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR") or None


def start_session(request, response, account: PortalAccount) -> PortalSession:
    """Create a session for `account` and set the cookie on `response`."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    age = conf.get("GUANJIA_PORTAL_SESSION_AGE")
    session = PortalSession.objects.create(
        account=account,
        key_digest=_digest(token),
        created_at=now,
        expires_at=now + age,
        last_seen_at=now,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
    )
    response.set_cookie(
        conf.get("GUANJIA_PORTAL_COOKIE_NAME"),
        token,
        max_age=int(age.total_seconds()),
        path=cookie_path(),
        secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        httponly=True,
        samesite="Lax",
    )
    return session


def end_session(request, response) -> None:
    token = request.COOKIES.get(conf.get("GUANJIA_PORTAL_COOKIE_NAME"))
    if token:
        PortalSession.objects.filter(key_digest=_digest(token)).delete()
    response.delete_cookie(conf.get("GUANJIA_PORTAL_COOKIE_NAME"), path=cookie_path(), samesite="Lax")


def current_account(request) -> PortalAccount | None:
    """The account signed in on this request, or None (no cookie, unknown, expired, or account disabled)."""
    if hasattr(request, "_portal_account"):
        return request._portal_account
    account = None
    token = request.COOKIES.get(conf.get("GUANJIA_PORTAL_COOKIE_NAME"))
    if token and len(token) < 100:
        now = timezone.now()
        session = (
            PortalSession.objects.select_related("account")
            .filter(key_digest=_digest(token), expires_at__gt=now, account__is_active=True)
            .first()
        )
        if session is not None:
            account = session.account
            if (now - session.last_seen_at).total_seconds() > TOUCH_EVERY_SECONDS:
                PortalSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    request._portal_account = account
    return account


def portal_login_required(view):
    """Let signed-in owners through (with `request.portal_account`); send others to the sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = current_account(request)
        if account is None:
            return redirect(f"{reverse('portal:sign_in')}?next={quote(request.get_full_path())}")
        request.portal_account = account
        return view(request, *args, **kwargs)

    return wrapper
