"""The WeChat Official Account server protocol (公众号服务器配置): signatures, message XML, replies, safe mode.

* Every request from WeChat carries `signature`, `timestamp` and `nonce` in the query string:
  `signature = sha1("".join(sorted([token, timestamp, nonce])))`. The verification request (GET)
  adds `echostr`, which is answered back verbatim.
* Messages are POSTed as XML: `<xml><ToUserName/><FromUserName/><CreateTime/><MsgType/>…</xml>`
  with `Content` (text), `PicUrl` and `MediaId` (image), `MsgId` (64-bit, the same on retries),
  or `Event` (subscribe, unsubscribe, …; no `MsgId`).
* A passive reply is an XML message back to the follower in the HTTP answer; "success" (or an
  empty body) means no reply.
* Safe mode (`encrypt_type=aes`): the body carries `<Encrypt>`, signed by `msg_signature =
  sha1(sorted([token, timestamp, nonce, Encrypt]))`; the payload is AES-256-CBC with the key
  `base64(EncodingAESKey + "=")`, IV = the key's first 16 bytes, PKCS#7 padding to 32 bytes, and
  the plain text `16 random bytes | 4-byte length (network order) | XML | app id`.

Parsing refuses any document type declaration: WeChat never sends one, and entities are the way
to attack an XML parser.
"""

import base64
import hashlib
import hmac
import os
import re
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BLOCK = 32


class ProtocolError(Exception):
    """The request does not follow the protocol (bad XML, missing fields, wrong signature in safe mode)."""


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's protocol


def check_signature(token: str, sig: str, timestamp: str, nonce: str) -> bool:
    if not token or not sig or not timestamp or not nonce:
        return False
    return hmac.compare_digest(signature(token, timestamp, nonce), sig.lower())


def is_fresh(timestamp: str, max_skew: int, now: float | None = None) -> bool:
    """The signed timestamp is close to our clock: an old signed request is a replay."""
    if not timestamp.isdigit():
        return False
    return abs((now if now is not None else time.time()) - int(timestamp)) <= max_skew


@dataclass
class Message:
    """One message or event from a follower, as WeChat sends it."""

    to_user: str
    openid: str
    create_time: int
    msg_type: str
    msg_id: int | None = None
    content: str = ""
    pic_url: str = ""
    media_id: str = ""
    event: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def parse_xml(body: bytes) -> dict[str, str]:
    """The top-level elements of a WeChat XML document, as text."""
    head = body[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in body.upper():
        raise ProtocolError("document type declarations are not accepted")
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD can reach the parser (checked above)
    except ET.ParseError as exc:
        raise ProtocolError(f"not XML: {exc}") from exc
    if root.tag != "xml":
        raise ProtocolError("the root element is not <xml>")
    return {child.tag: child.text or "" for child in root}


def parse_message(fields: dict[str, str]) -> Message:
    """A `Message` from the parsed XML; ProtocolError when a field WeChat always sends is missing or malformed."""
    openid = fields.get("FromUserName", "").strip()
    msg_type = fields.get("MsgType", "").strip().lower()
    create_time = fields.get("CreateTime", "").strip()
    if not OPENID.match(openid):
        raise ProtocolError("FromUserName is missing or malformed")
    if not msg_type or not create_time.isdigit():
        raise ProtocolError("MsgType or CreateTime is missing")
    msg_id = fields.get("MsgId", "").strip()
    if msg_type != "event" and not msg_id.isdigit():
        raise ProtocolError("MsgId is missing")
    return Message(
        to_user=fields.get("ToUserName", "").strip()[:64],
        openid=openid,
        create_time=int(create_time),
        msg_type=msg_type[:16],
        msg_id=int(msg_id) if msg_id.isdigit() else None,
        content=fields.get("Content", ""),
        pic_url=fields.get("PicUrl", "").strip(),
        media_id=fields.get("MediaId", "").strip(),
        event=fields.get("Event", "").strip().lower(),
        fields=fields,
    )


def _cdata(text: str) -> str:
    return "<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(message: Message, content: str, now: int | None = None) -> str:
    """A passive text reply to the follower who sent `message`."""
    return (
        "<xml>"
        f"<ToUserName>{_cdata(message.openid)}</ToUserName>"
        f"<FromUserName>{_cdata(message.to_user)}</FromUserName>"
        f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )


# --- safe mode -------------------------------------------------------------------------------


def _key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except ValueError as exc:
        raise ProtocolError("WECHAT_ENCODING_AES_KEY is not valid") from exc
    if len(key) != 32:
        raise ProtocolError("WECHAT_ENCODING_AES_KEY must be 43 characters")
    return key


def decrypt(encoding_aes_key: str, app_id: str, encrypted: str) -> bytes:
    """The XML inside a safe-mode `<Encrypt>`; ProtocolError when it is not for this app or not well formed."""
    key = _key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted, validate=True)
    except ValueError as exc:
        raise ProtocolError("Encrypt is not base64") from exc
    if not data or len(data) % 16:
        raise ProtocolError("Encrypt has a wrong length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise ProtocolError("bad padding")
    content = plain[16:-pad]
    if len(content) < 4:
        raise ProtocolError("too short")
    (length,) = struct.unpack(">I", content[:4])
    xml, receiver = content[4 : 4 + length], content[4 + length :]
    if len(xml) != length or receiver.decode(errors="replace") != app_id:
        raise ProtocolError("the message is not for this app")
    return xml


def encrypt(encoding_aes_key: str, app_id: str, xml: str, random: bytes | None = None) -> str:
    key = _key(encoding_aes_key)
    body = xml.encode()
    plain = (random or os.urandom(16)) + struct.pack(">I", len(body)) + body + app_id.encode()
    pad = _BLOCK - len(plain) % _BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def encrypted_reply(token: str, encoding_aes_key: str, app_id: str, xml: str, timestamp: str, nonce: str) -> str:
    """A passive reply in safe mode: the reply XML encrypted and signed."""
    secret = encrypt(encoding_aes_key, app_id, xml)
    sig = signature(token, timestamp, nonce, secret)
    return (
        "<xml>"
        f"<Encrypt>{_cdata(secret)}</Encrypt>"
        f"<MsgSignature>{_cdata(sig)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce>{_cdata(nonce)}</Nonce>"
        "</xml>"
    )
