"""Template messages on case events, through the gateway; the WeChat API client faked (no network)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanjia.cases import services as cs
from guanjia.cases.models import Attachment
from guanjia.wechat import gateway as gw
from guanjia.wechat import services
from guanjia.wechat.client import HttpClient, WeChatError, access_token
from guanjia.wechat.models import AccessToken, DraftCase, TemplateMessage, WeChatFollower

from .conftest import APP_ID, OPENID, image_xml, text_xml

TEMPLATES = {
    "case_recorded": {
        "template_id": "tpl-recorded",
        "data": {"character_string1": "number", "thing2": "summary", "time3": "time"},
    },
    "case_dispatched": {"template_id": "tpl-dispatched", "data": {"character_string1": "number", "phrase2": "status"}},
}


class FakeWeChat(HttpClient):
    """The WeChat API as the bridge sees it: hands out tokens, accepts or refuses template messages."""

    def __init__(self):
        self.token_fetches = 0
        self.sent = []
        self.refuse_token = set()
        self.media = {}

    def get_json(self, url, params):
        assert url.endswith("/cgi-bin/token")
        assert params == {"grant_type": "client_credential", "appid": APP_ID, "secret": "app-secret"}
        self.token_fetches += 1
        return {"access_token": f"token-{self.token_fetches}", "expires_in": 7200}

    def post_json(self, url, params, body):
        assert url.endswith("/cgi-bin/message/template/send")
        if params["access_token"] in self.refuse_token:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        self.sent.append((params["access_token"], body))
        return {"errcode": 0, "errmsg": "ok", "msgid": 200228332 + len(self.sent)}

    def get_bytes(self, url, params, max_bytes):
        assert url.endswith("/cgi-bin/media/get")
        return self.media[params["media_id"]], "image/jpeg"


@pytest.fixture
def fake(monkeypatch, settings):
    settings.WECHAT_TEMPLATES = TEMPLATES
    client = FakeWeChat()
    api = gw.ApiWeChatGateway(client=client)
    monkeypatch.setattr(services, "get_gateway", lambda: api)
    return client


@pytest.fixture
def hooks(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def bound(world):
    return WeChatFollower.objects.create(openid=OPENID, party=world.owner_a)


def _record(world, hooks, **extra):
    data = {
        "project": world.project,
        "case_type": "repair",
        "channel": "hotline",
        "description": "厨房下水道堵塞，水漫到客厅了",
        "party": world.owner_a,
        "units": [world.unit_a],
    }
    data.update(extra)
    with hooks():
        return cs.do_record_case(world.specialist, **data)


def test_the_customers_followers_hear_of_intake_dispatch_and_progress(world, bound, hooks, fake):
    case = _record(world, hooks)
    with hooks():
        cs.do_dispatch_case(world.specialist, case, expected_version=case.version, department=world.dept)
    with hooks():
        cs.do_add_note(world.specialist, case, note="维修师傅下午三点上门", visibility="customer")
    with hooks():
        cs.do_add_note(world.specialist, case, note="内部：注意业主情绪")
    kinds = list(TemplateMessage.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["case_recorded", "case_dispatched", "case_progress"]
    progress = TemplateMessage.objects.get(kind="case_progress")
    assert progress.params["note"] == "维修师傅下午三点上门"
    # Sent through the API: one token for all, the configured templates, values cut to WeChat's 20 characters.
    assert fake.token_fetches == 1
    _token, body = fake.sent[0]
    assert body["touser"] == OPENID and body["template_id"] == "tpl-recorded"
    assert body["data"]["character_string1"]["value"] == case.number
    assert len(body["data"]["thing2"]["value"]) <= 20
    assert TemplateMessage.objects.get(kind="case_recorded").provider_msg_id == "200228333"
    # No template configured for progress: kept as an error, not retried.
    assert "no template configured" in progress.delivery_error
    assert progress.delivered_at is not None


def test_a_rerun_sends_nothing_twice(world, bound, hooks, fake):
    case = _record(world, hooks)
    event_id = case.events.get(seq=1).pk
    with hooks():
        services.queue_case_event_messages(event_id)
    assert TemplateMessage.objects.count() == 1
    assert len(fake.sent) == 1
    assert services.deliver_template_messages().claimed == 0


def test_other_customers_and_unsubscribed_followers_hear_nothing(world, bound, hooks, fake):
    _record(world, hooks, party=world.owner_b, units=[world.unit_b])
    assert not TemplateMessage.objects.exists()
    WeChatFollower.objects.filter(pk=bound.pk).update(subscribed=False)
    _record(world, hooks)
    assert not TemplateMessage.objects.exists()


def test_nothing_is_queued_while_wechat_is_not_configured(world, bound, hooks, settings):
    settings.WECHAT_TOKEN = ""
    settings.WECHAT_APP_ID = ""
    _record(world, hooks)
    assert not TemplateMessage.objects.exists()


def test_the_access_token_is_cached_and_refreshed_before_it_expires(world, settings):
    client = FakeWeChat()
    assert access_token(client) == "token-1"
    assert access_token(client) == "token-1"
    assert client.token_fetches == 1
    AccessToken.objects.filter(app_id=APP_ID).update(expires_at=timezone.now() + timedelta(minutes=2))
    assert access_token(client) == "token-2"
    assert client.token_fetches == 2


def test_a_token_wechat_no_longer_accepts_is_refreshed_once(world, bound, hooks, fake):
    access_token(fake)
    fake.refuse_token.add("token-1")
    _record(world, hooks)
    assert fake.token_fetches == 2
    assert [token for token, _ in fake.sent] == ["token-2"]
    assert TemplateMessage.objects.get().delivery_error == ""


def test_the_api_needs_credentials(world, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.WECHAT_APP_SECRET = ""
    with pytest.raises(ImproperlyConfigured):
        access_token(FakeWeChat())


def test_a_refused_token_request_is_an_error(world):
    class Refusing(FakeWeChat):
        def get_json(self, url, params):
            return {"errcode": 40013, "errmsg": "invalid appid"}

    with pytest.raises(WeChatError):
        access_token(Refusing())


def test_photos_are_fetched_and_attached_when_a_draft_is_recorded(world, wechat, hooks, fake, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    fake.media["m-1"] = b"\xff\xd8\xff\xe0 a jpeg"
    wechat(text_xml())
    wechat(image_xml(media_id="m-1"))
    draft = DraftCase.objects.get()
    with hooks():
        result = services.do_convert_draft(
            world.manager,
            draft,
            project=world.project,
            case_type="repair",
            description=draft.text,
            party=world.owner_a,
            units=[world.unit_a],
        )
    attachment = Attachment.objects.get(case=result.case)
    assert attachment.name == f"wechat-{result.case.number}-1.jpg"
    assert attachment.file.read() == b"\xff\xd8\xff\xe0 a jpeg"
