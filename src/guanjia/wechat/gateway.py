"""Template messages to followers (and photos from them) through one small interface, like `notifications.sms`.

The provider contract (a backend is any subclass of `WeChatGateway`):

* `send_template(openid, kind, params, url="") -> str` sends one template message and returns
  WeChat's message id. `kind` is one of our occasions (`case_recorded`, `case_dispatched`,
  `case_progress`, `case_closed`, `case_reopened`); `params` are strings: `number` (TS-…),
  `status`, `summary` (at most 20 characters), `time` (YYYY-MM-DD HH:MM, Beijing), `project`,
  `note` (at most 20 characters). The account's templates are chosen in the WeChat admin; their
  ids and keyword names differ per account, so `settings.WECHAT_TEMPLATES` maps each kind to
  `{"template_id": "…", "data": {"<keyword>": "<param>"}}`, e.g.
  `{"character_string1": "number", "thing2": "summary", "phrase3": "status", "time4": "time"}`.
* `fetch_media(media_id) -> (bytes, content type) | None`: a follower's photo (kept by WeChat for
  three days), or None when the backend cannot fetch media.
* Both raise `WeChatError` when WeChat refuses or cannot be reached, within seconds. The caller
  records the error and never retries, so nobody gets a message twice.
* They must not log the app secret or the access token.

`settings.GUANJIA_WECHAT_BACKEND` is the dotted path of the backend; the default,
`LogWeChatGateway`, writes each message to the log and sends nothing. `ApiWeChatGateway` calls
the WeChat API.
"""

import json
import logging
import uuid
from collections.abc import Mapping
from functools import lru_cache

from django.utils.module_loading import import_string

from . import config
from .client import API, TOKEN_ERRORS, HttpClient, UrllibClient, WeChatError, access_token
from .models import mask_openid

logger = logging.getLogger(__name__)

TEMPLATE_URL = f"{API}/cgi-bin/message/template/send"
MEDIA_URL = f"{API}/cgi-bin/media/get"
MAX_MEDIA = 10 * 1024 * 1024
# WeChat's limit for a "thing" keyword; longer values are refused.
MAX_VALUE = 20


class WeChatGateway:
    """Base class of WeChat backends; see the module docstring for the contract."""

    def send_template(self, openid: str, kind: str, params: Mapping[str, str], url: str = "") -> str:
        raise NotImplementedError

    def fetch_media(self, media_id: str) -> tuple[bytes, str] | None:
        return None


FREE_TEXT_PARAMS = {"summary", "note"}


class LogWeChatGateway(WeChatGateway):
    """Writes each template message to the log instead of sending it: the default, for demos and tests."""

    def send_template(self, openid: str, kind: str, params: Mapping[str, str], url: str = "") -> str:
        message_id = f"log-{uuid.uuid4().hex[:12]}"
        # The summary and note are an owner's own words (names, addresses): logged by length only.
        shown = {k: (f"<{len(str(v))} characters>" if k in FREE_TEXT_PARAMS else v) for k, v in params.items()}
        logger.info("WeChat %s to %s kind=%s params=%s url=%s", message_id, mask_openid(openid), kind, shown, url)
        return message_id


class ApiWeChatGateway(WeChatGateway):
    """The WeChat API: template messages and media, with the shared access token."""

    def __init__(self, client: HttpClient | None = None):
        self.client = client or UrllibClient()

    def _call(self, send):
        """Run `send(token)`; when WeChat says the token is no longer valid, refresh it once and retry."""
        token = access_token(self.client)
        try:
            return send(token)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            return send(access_token(self.client, stale=token))

    def send_template(self, openid: str, kind: str, params: Mapping[str, str], url: str = "") -> str:
        template = config.templates().get(kind)
        if not template or not template.get("template_id"):
            raise WeChatError(f"no template configured for {kind} (WECHAT_TEMPLATES)")
        data = {
            keyword: {"value": str(params.get(name, ""))[:MAX_VALUE]}
            for keyword, name in (template.get("data") or {}).items()
        }
        body = {"touser": openid, "template_id": template["template_id"], "data": data}
        if url:
            body["url"] = url

        def send(token: str) -> str:
            answer = self.client.post_json(TEMPLATE_URL, {"access_token": token}, body)
            errcode = int(answer.get("errcode") or 0)
            if errcode:
                raise WeChatError(f"template message refused: {errcode} {answer.get('errmsg', '')}", errcode)
            return str(answer.get("msgid", ""))

        return self._call(send)

    def fetch_media(self, media_id: str) -> tuple[bytes, str] | None:
        def fetch(token: str) -> tuple[bytes, str]:
            content, content_type = self.client.get_bytes(
                MEDIA_URL, {"access_token": token, "media_id": media_id}, MAX_MEDIA
            )
            if content_type.startswith(("application/json", "text/plain")):
                # Errors come back as JSON instead of the file.
                answer = json.loads(content or b"{}")
                raise WeChatError(
                    f"media refused: {answer.get('errcode')} {answer.get('errmsg', '')}", answer.get("errcode")
                )
            return content, content_type

        return self._call(fetch)


@lru_cache(maxsize=4)
def _gateway_for(path: str) -> WeChatGateway:
    return import_string(path)()


def get_gateway() -> WeChatGateway:
    """The configured backend (one instance per backend path)."""
    return _gateway_for(config.backend_path())
