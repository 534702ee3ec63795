"""The callback with real protocol messages: verification, signatures, replays, sizes, safe mode."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from guanjia.wechat import protocol
from guanjia.wechat.models import DraftCase, WeChatFollower, WeChatMessage
from guanjia.wechat.services import received_reply, unsupported_reply, welcome_reply

from .conftest import ACCOUNT, AES_KEY, APP_ID, CALLBACK, OPENID, TOKEN, event_xml, image_xml, signed_query, text_xml

pytestmark = pytest.mark.django_db


def nothing_stored():
    return not (WeChatMessage.objects.exists() or DraftCase.objects.exists() or WeChatFollower.objects.exists())


def reply_of(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/xml")
    return protocol.parse_xml(response.content)


def zh(text_function) -> str:
    from django.utils import translation

    with translation.override("zh-hans"):
        return text_function()


def test_server_verification_echoes_the_echostr(client):
    response = client.get(f"{CALLBACK}?{signed_query(echostr='5837397520665436492')}")
    assert response.status_code == 200
    assert response.content == b"5837397520665436492"


def test_verification_with_a_wrong_signature_is_refused(client):
    response = client.get(f"{CALLBACK}?{signed_query(token='guessed', echostr='5837397520665436492')}")
    assert response.status_code == 403
    assert b"5837397520665436492" not in response.content


def test_without_a_token_the_callback_does_not_exist(client, settings):
    settings.WECHAT_TOKEN = ""
    # With an empty token anybody could sign; the endpoint must not answer at all.
    query = signed_query(token="", echostr="x")
    assert client.get(f"{CALLBACK}?{query}").status_code == 404
    assert client.post(f"{CALLBACK}?{query}", text_xml(), content_type="text/xml").status_code == 404
    assert nothing_stored()


def test_a_text_message_becomes_a_draft_and_gets_the_passive_reply(wechat):
    reply = reply_of(wechat(text_xml()))
    assert reply["ToUserName"] == OPENID
    assert reply["FromUserName"] == ACCOUNT
    assert reply["MsgType"] == "text"
    assert reply["Content"] == zh(received_reply)
    assert int(reply["CreateTime"]) >= int(time.time()) - 5
    draft = DraftCase.objects.get()
    assert draft.text == "卫生间漏水，楼下都渗了"
    assert draft.follower.openid == OPENID
    assert draft.project is None
    message = WeChatMessage.objects.get()
    assert message.msg_id == 1234567890123456 and message.msg_type == "text" and message.account == ACCOUNT


def test_photos_after_the_text_join_the_same_draft_without_another_reply(wechat):
    wechat(text_xml())
    response = wechat(image_xml())
    assert response.status_code == 200 and response.content == b"success"
    wechat(image_xml(msg_id=1234567890123458, media_id="m2"))
    draft = DraftCase.objects.get()
    assert draft.images == 2
    assert draft.messages.count() == 3
    assert draft.messages.filter(msg_type="image").first().pic_url.startswith("http://mmbiz.qpic.cn/")


def test_a_forged_signature_is_refused_and_nothing_is_stored(wechat):
    response = wechat(text_xml(), query=signed_query(token="not-our-token"))
    assert response.status_code == 403
    assert nothing_stored()


def test_a_missing_signature_is_refused(client):
    response = client.post(CALLBACK, text_xml(), content_type="text/xml")
    assert response.status_code == 403
    assert nothing_stored()


def test_an_old_signed_request_is_a_replay_and_refused(wechat):
    response = wechat(text_xml(), query=signed_query(timestamp=int(time.time()) - 3600))
    assert response.status_code == 403
    assert nothing_stored()


def test_a_replayed_msg_id_stores_nothing_new_and_gets_the_same_answer(wechat):
    first = reply_of(wechat(text_xml()))
    again = reply_of(wechat(text_xml(content="换了内容的重放")))
    assert again["Content"] == first["Content"]
    assert WeChatMessage.objects.count() == 1
    assert DraftCase.objects.get().text == "卫生间漏水，楼下都渗了"


def test_an_oversized_body_is_refused_and_nothing_is_stored(wechat, settings):
    settings.WECHAT_MAX_BODY = 2048
    response = wechat(text_xml(content="漏" * 2000))
    assert response.status_code == 413
    assert nothing_stored()


@pytest.mark.parametrize(
    "body",
    [
        "not xml at all",
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "漏水漏水">]><xml><FromUserName>&a;</FromUserName></xml>',
        "<html><FromUserName>x</FromUserName></html>",
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>缺少MsgId</Content></xml>",
        "<xml><FromUserName>bad openid!</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        "<MsgId>1</MsgId></xml>",
    ],
)
def test_malformed_messages_are_refused_and_nothing_is_stored(wechat, body):
    assert wechat(body).status_code == 400
    assert nothing_stored()


def test_subscribe_welcomes_and_unsubscribe_stops_messages(wechat):
    assert reply_of(wechat(event_xml("subscribe")))["Content"] == zh(welcome_reply)
    assert WeChatFollower.objects.get().subscribed
    response = wechat(event_xml("unsubscribe"))
    assert response.content == b"success"
    assert not WeChatFollower.objects.get().subscribed
    assert not DraftCase.objects.exists()


def test_voice_messages_are_answered_but_not_stored(wechat):
    voice = text_xml().replace("<MsgType><![CDATA[text]]></MsgType>", "<MsgType><![CDATA[voice]]></MsgType>")
    assert reply_of(wechat(voice))["Content"] == zh(unsupported_reply)
    assert nothing_stored()


def test_only_get_and_post(client):
    assert client.put(f"{CALLBACK}?{signed_query()}").status_code == 405


def _safe_mode_post(client, plain_xml, *, tamper=False):
    timestamp, nonce = str(int(time.time())), "1320562132"
    secret = protocol.encrypt(AES_KEY, APP_ID, plain_xml)
    msg_signature = protocol.signature(TOKEN, timestamp, nonce, secret)
    if tamper:
        msg_signature = "0" * 40
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{secret}]]></Encrypt></xml>"
    query = signed_query(timestamp=int(timestamp), nonce=nonce, encrypt_type="aes", msg_signature=msg_signature)
    return client.post(f"{CALLBACK}?{query}", body, content_type="text/xml"), timestamp, nonce


def test_safe_mode_decrypts_the_message_and_encrypts_the_reply(client):
    response, _timestamp, _nonce = _safe_mode_post(client, text_xml())
    outer = reply_of(response)
    assert outer["MsgSignature"] == protocol.signature(TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    inner = protocol.parse_xml(protocol.decrypt(AES_KEY, APP_ID, outer["Encrypt"]))
    assert inner["ToUserName"] == OPENID
    assert inner["Content"] == zh(received_reply)
    assert DraftCase.objects.get().text == "卫生间漏水，楼下都渗了"


def test_safe_mode_with_a_wrong_msg_signature_is_refused(client):
    response, _, _ = _safe_mode_post(client, text_xml(), tamper=True)
    assert response.status_code == 403
    assert nothing_stored()


def test_safe_mode_message_for_another_app_is_refused(client):
    timestamp, nonce = str(int(time.time())), "42"
    secret = protocol.encrypt(AES_KEY, "wxanotherapp000000", text_xml())
    query = signed_query(
        timestamp=int(timestamp),
        nonce=nonce,
        encrypt_type="aes",
        msg_signature=protocol.signature(TOKEN, timestamp, nonce, secret),
    )
    body = f"<xml><Encrypt><![CDATA[{secret}]]></Encrypt></xml>"
    assert client.post(f"{CALLBACK}?{query}", body, content_type="text/xml").status_code == 400
    assert nothing_stored()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a real server; SQLite's in-memory test database is shared"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_message_store_it_once():
    count = 5
    barrier = threading.Barrier(count)
    answers: list = []
    query = signed_query()

    def run():
        try:
            barrier.wait()
            answers.append(Client().post(f"{CALLBACK}?{query}", text_xml(), content_type="text/xml").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200] * count
    assert WeChatMessage.objects.count() == 1
    assert DraftCase.objects.count() == 1
