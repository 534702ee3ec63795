import time

import pytest

from guanjia.wechat import protocol

TOKEN = "guanjia-wechat-test"
APP_ID = "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
ACCOUNT = "gh_7f083739789a"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
CALLBACK = "/wechat/callback/"


@pytest.fixture(autouse=True)
def wechat_settings(settings):
    settings.WECHAT_TOKEN = TOKEN
    settings.WECHAT_APP_ID = APP_ID
    settings.WECHAT_APP_SECRET = "app-secret"
    settings.WECHAT_ENCODING_AES_KEY = AES_KEY
    settings.GUANJIA_WECHAT_BACKEND = "guanjia.wechat.gateway.LogWeChatGateway"
    return settings


def signed_query(timestamp: int | None = None, nonce: str = "1320562132", token: str = TOKEN, **extra) -> str:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    params = {"signature": protocol.signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    params.update(extra)
    return "&".join(f"{k}={v}" for k, v in params.items())


def text_xml(content="卫生间漏水，楼下都渗了", msg_id=1234567890123456, openid=OPENID, create_time=None) -> str:
    """A text message exactly as the WeChat documentation shows it."""
    create_time = int(time.time()) if create_time is None else create_time
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId>"
        "</xml>"
    )


def image_xml(
    msg_id=1234567890123457, openid=OPENID, media_id="MdEi1aPsQm7tqFGyOiUFXrGLtfl2bEd7CbhxVn-mtkO2hfTfCcs8rjGqQDsmPRNm"
) -> str:
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[image]]></MsgType>"
        "<PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz_jpg/Y8ia3Pc4Ecw5v8AT8s0z9kw/0]]></PicUrl>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId>"
        "</xml>"
    )


def event_xml(event: str, openid=OPENID) -> str:
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>"
        "</xml>"
    )


@pytest.fixture
def wechat(client):
    """Posts as WeChat's servers do: signed query string, XML body."""

    def post(xml: str, query: str | None = None):
        return client.post(f"{CALLBACK}?{query or signed_query(openid=OPENID)}", xml, content_type="text/xml")

    return post
