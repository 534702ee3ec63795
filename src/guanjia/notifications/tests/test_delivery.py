"""Delivery: e-mail through Django's mail backends, SMS through the configured gateway, each at most once."""

import logging

import pytest

from guanjia.notifications import sms
from guanjia.notifications.choices import NotificationKind
from guanjia.notifications.models import Notification
from guanjia.notifications.services import deliver_pending, do_notify


class RecordingGateway(sms.SmsGateway):
    """A provider stand-in that remembers what it was asked to send."""

    sent: list = []

    def send(self, phone, template_code, params):
        self.sent.append((phone, template_code, dict(params)))
        return f"msg-{len(self.sent)}"


class RefusingGateway(sms.SmsGateway):
    def send(self, phone, template_code, params):
        raise sms.SmsError("template not approved")


@pytest.fixture(autouse=True)
def _fresh_gateways():
    RecordingGateway.sent = []
    sms._gateway_for.cache_clear()
    yield
    sms._gateway_for.cache_clear()


def notify(recipients, kind=NotificationKind.RISK_FLAGGED, key="test:1", **extra):
    return do_notify(recipients, kind, title="TS-20251103-0001: 群诉", body="业主聚集", key=key, **extra)


def test_notify_creates_one_row_per_active_person_and_never_twice_for_the_same_key(nw):
    nw.handler2.is_active = False
    nw.handler2.save(update_fields=["is_active"])
    assert notify([nw.team_lead, nw.manager.pk, nw.team_lead, nw.handler2]) == sorted([nw.team_lead.pk, nw.manager.pk])
    assert notify([nw.team_lead, nw.manager]) == []
    assert Notification.objects.count() == 2
    notify([nw.team_lead], key="test:2")
    assert Notification.objects.filter(recipient=nw.team_lead).count() == 2


def test_email_goes_through_django_mail_to_staff_with_an_address(nw, mailoutbox, settings):
    settings.GUANJIA_SITE_URL = "https://kf.example.com"
    notify([nw.team_lead, nw.specialist2], link="/cases/7/")
    result = deliver_pending()
    assert result.claimed == 2 and result.emails == 1
    (mail,) = mailoutbox
    assert mail.to == ["team_lead@example.com"] and mail.subject == "TS-20251103-0001: 群诉"
    assert "业主聚集" in mail.body and "https://kf.example.com/cases/7/" in mail.body


def test_delivery_sends_each_message_once(nw, mailoutbox):
    notify([nw.team_lead])
    deliver_pending()
    again = deliver_pending()
    assert again.claimed == 0 and len(mailoutbox) == 1


def test_the_default_sms_gateway_logs_with_the_phone_masked(nw, caplog):
    notify([nw.manager])
    with caplog.at_level(logging.INFO, logger="guanjia.notifications.sms"):
        result = deliver_pending()
    assert result.texts == 1
    assert "138****1234" in caplog.text and "13800001234" not in caplog.text
    assert "risk_flagged" in caplog.text


def test_a_gateway_configured_in_settings_is_used_with_the_mapped_template(nw, settings):
    settings.GUANJIA_SMS_BACKEND = f"{__name__}.RecordingGateway"
    settings.GUANJIA_SMS_TEMPLATES = {NotificationKind.RISK_FLAGGED: "SMS_123456"}
    notify([nw.manager, nw.specialist2])  # specialist2 has no phone
    deliver_pending()
    assert RecordingGateway.sent == [
        ("13800001234", "SMS_123456", {"title": "TS-20251103-0001: 群诉", "number": ""}),
    ]


def test_only_urgent_kinds_are_texted(nw, settings):
    settings.GUANJIA_SMS_BACKEND = f"{__name__}.RecordingGateway"
    notify([nw.manager], kind=NotificationKind.CASE_ASSIGNED)
    deliver_pending()
    assert RecordingGateway.sent == []


def test_a_refused_text_is_recorded_and_not_retried(nw, settings, mailoutbox):
    settings.GUANJIA_SMS_BACKEND = f"{__name__}.RefusingGateway"
    notify([nw.manager])
    result = deliver_pending()
    assert result.failures == 1 and len(mailoutbox) == 1
    note = Notification.objects.get()
    assert "template not approved" in note.delivery_error and note.delivered_at
    assert deliver_pending().claimed == 0
