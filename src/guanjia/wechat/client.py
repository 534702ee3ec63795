"""HTTP to the WeChat API through one small client, and the access token every API call needs.

`HttpClient` is the seam: the default `UrllibClient` talks to api.weixin.qq.com with a short
timeout; tests hand the gateway a fake client, so no test touches the network.

The access token (valid 7,200 s) is fetched with the app id and secret and kept in the database
(`AccessToken`), shared by every web and worker process: each fetch from `/cgi-bin/token`
invalidates the previous token after a few minutes, so processes must not fetch one each.
It is refreshed `REFRESH_MARGIN` before it expires, or at once when WeChat says it is no longer
valid (errcode 40001, 40014, 42001).
"""

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from . import config
from .models import AccessToken

logger = logging.getLogger(__name__)

API = "https://api.weixin.qq.com"
TOKEN_URL = f"{API}/cgi-bin/token"
REFRESH_MARGIN = timedelta(minutes=5)
TIMEOUT = 5
# WeChat's answers for an access token that is wrong, invalid or expired.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class WeChatError(Exception):
    """WeChat refused a call (errcode other than 0) or could not be reached."""

    def __init__(self, message: str, errcode: int | None = None):
        super().__init__(message)
        self.errcode = errcode


class HttpClient:
    """The three calls the bridge makes. Implementations raise WeChatError on network failure."""

    def get_json(self, url: str, params: dict) -> dict:
        raise NotImplementedError

    def post_json(self, url: str, params: dict, body: dict) -> dict:
        raise NotImplementedError

    def get_bytes(self, url: str, params: dict, max_bytes: int) -> tuple[bytes, str]:
        """(content, content type); WeChatError when larger than `max_bytes`."""
        raise NotImplementedError


class UrllibClient(HttpClient):
    def __init__(self, timeout: float = TIMEOUT):
        self.timeout = timeout

    def _open(self, request: urllib.request.Request):
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310 - https URLs built here
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            # The URL carries the secret or the token: say only where it went.
            raise WeChatError(
                f"WeChat API unreachable ({urllib.parse.urlsplit(request.full_url).path}): {exc}"
            ) from exc

    def get_json(self, url: str, params: dict) -> dict:
        request = urllib.request.Request(f"{url}?{urllib.parse.urlencode(params)}")  # noqa: S310 - API constant
        with self._open(request) as response:
            return json.loads(response.read(1024 * 1024) or b"{}")

    def post_json(self, url: str, params: dict, body: dict) -> dict:
        data = json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 - API constant
            f"{url}?{urllib.parse.urlencode(params)}",
            data=data,
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with self._open(request) as response:
            return json.loads(response.read(1024 * 1024) or b"{}")

    def get_bytes(self, url: str, params: dict, max_bytes: int) -> tuple[bytes, str]:
        request = urllib.request.Request(f"{url}?{urllib.parse.urlencode(params)}")  # noqa: S310 - API constant
        with self._open(request) as response:
            content = response.read(max_bytes + 1)
            if len(content) > max_bytes:
                raise WeChatError("media larger than allowed")
            return content, response.headers.get("Content-Type", "")


def _fetch(client: HttpClient) -> tuple[str, int]:
    app_id, secret = config.credentials()
    data = client.get_json(TOKEN_URL, {"grant_type": "client_credential", "appid": app_id, "secret": secret})
    token = data.get("access_token")
    if not token:
        raise WeChatError(f"no access token: {data.get('errcode')} {data.get('errmsg', '')}", data.get("errcode"))
    return token, int(data.get("expires_in") or 7200)


def _store(app_id: str, token: str, expires_in: int) -> None:
    AccessToken.objects.update_or_create(
        app_id=app_id, defaults={"token": token, "expires_at": timezone.now() + timedelta(seconds=expires_in)}
    )


def _usable(row: AccessToken | None, stale: str = "") -> bool:
    return bool(
        row and row.token and row.token != stale and row.expires_at and row.expires_at - REFRESH_MARGIN > timezone.now()
    )


def access_token(client: HttpClient, *, stale: str = "") -> str:
    """A valid access token, fetched only when the stored one is missing, expiring, or `stale` (refused by WeChat)."""
    app_id, _secret = config.credentials()
    row = AccessToken.objects.filter(app_id=app_id).first()
    if _usable(row, stale):
        return row.token
    if not connection.features.has_select_for_update:
        # SQLite: one writer at a time anyway; do not hold the database lock during the HTTP call.
        token, expires_in = _fetch(client)
        _store(app_id, token, expires_in)
        return token
    with transaction.atomic():
        AccessToken.objects.get_or_create(app_id=app_id)
        row = AccessToken.objects.select_for_update().get(app_id=app_id)
        if _usable(row, stale):  # another process refreshed it while we waited for the lock
            return row.token
        token, expires_in = _fetch(client)
        _store(app_id, token, expires_in)
        return token
