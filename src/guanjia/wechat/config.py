"""The WeChat Official Account's settings, read in one place.

`WECHAT_TOKEN` (the server-configuration token) switches the callback on; `WECHAT_APP_ID` and
`WECHAT_APP_SECRET` are needed to call the WeChat API (access token, template messages, media);
`WECHAT_ENCODING_AES_KEY` (43 characters) enables safe mode. All come from the environment (see
settings.py). An empty token switches the callback off: with an empty token anybody could compute
a valid signature, so the endpoint answers 404 instead.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_BACKEND = "guanjia.wechat.gateway.LogWeChatGateway"


def token() -> str:
    return getattr(settings, "WECHAT_TOKEN", "") or ""


def app_id() -> str:
    return getattr(settings, "WECHAT_APP_ID", "") or ""


def encoding_aes_key() -> str:
    return getattr(settings, "WECHAT_ENCODING_AES_KEY", "") or ""


def enabled() -> bool:
    """The bridge is in use: messages come in or template messages go out."""
    return bool(token() or app_id())


def credentials() -> tuple[str, str]:
    """(app id, app secret) for the WeChat API; fails loudly when either is missing."""
    app, secret = app_id(), getattr(settings, "WECHAT_APP_SECRET", "") or ""
    if not app or not secret:
        raise ImproperlyConfigured("WECHAT_APP_ID and WECHAT_APP_SECRET must be set to call the WeChat API.")
    return app, secret


def backend_path() -> str:
    return getattr(settings, "GUANJIA_WECHAT_BACKEND", "") or DEFAULT_BACKEND


def templates() -> dict:
    """{kind: {"template_id": …, "data": {keyword: param}}}: see docs/wechat.md."""
    return getattr(settings, "WECHAT_TEMPLATES", None) or {}


def template_url() -> str:
    """Where a template message leads, e.g. "https://kf.example.com/portal/cases/{case_id}/"; "" for nowhere."""
    return getattr(settings, "WECHAT_TEMPLATE_URL", "") or ""


def max_body() -> int:
    """The largest message body accepted (bytes). WeChat's own messages are a few kilobytes."""
    return int(getattr(settings, "WECHAT_MAX_BODY", 64 * 1024))


def max_clock_skew() -> int:
    """Seconds a signed request's timestamp may differ from our clock; older requests are replays."""
    return int(getattr(settings, "WECHAT_MAX_CLOCK_SKEW", 300))
