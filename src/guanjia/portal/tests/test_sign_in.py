"""Sign-in by phone and SMS code: hashed single-use codes, expiry, rate limits, lockout, own session."""

import logging

import pytest
from django.core.exceptions import ValidationError

from guanjia.notifications.sms import SmsError, SmsGateway
from guanjia.portal import services
from guanjia.portal.models import DevOutboxMessage, PortalAccount, PortalSession, SignInCode

from .conftest import at, last_code, portal_login

PHONE = "13987651502"


def messages_of(exc: pytest.ExceptionInfo, field: str) -> str:
    return " ".join(exc.value.message_dict[field])


class RecordingGateway(SmsGateway):
    sent: list = []

    def send(self, phone, template_code, params):
        RecordingGateway.sent.append((phone, template_code, dict(params)))
        return "provider-1"


class RefusingGateway(SmsGateway):
    def send(self, phone, template_code, params):
        raise SmsError("quota exceeded")


# --- codes ---------------------------------------------------------------------------------------------


def test_code_is_stored_hashed_logged_masked_and_kept_for_the_demo_page(db, caplog):
    caplog.set_level(logging.INFO, logger="guanjia.notifications.sms")
    record = services.do_send_sign_in_code("139 8765 1502", ip="10.0.0.1")
    code = last_code(PHONE)
    assert len(code) == 6 and code.isdigit()
    assert record.phone == PHONE
    assert code not in record.code_digest and len(record.code_digest) == 64
    assert record.expires_at - record.created_at == services.conf.get("GUANJIA_PORTAL_CODE_TTL")
    assert "139****1502" in caplog.text and PHONE not in caplog.text and code in caplog.text


def test_a_real_gateway_gets_the_code_and_nothing_is_kept_in_clear(db, settings):
    settings.GUANJIA_SMS_BACKEND = "guanjia.portal.tests.test_sign_in.RecordingGateway"
    settings.GUANJIA_SMS_TEMPLATES = {"portal_sign_in_code": "SMS_123"}
    settings.DEBUG = False
    RecordingGateway.sent = []
    record = services.do_send_sign_in_code(PHONE, ip=None)
    [(phone, template, params)] = RecordingGateway.sent
    assert (phone, template) == (PHONE, "SMS_123")
    assert not DevOutboxMessage.objects.exists()
    assert SignInCode.objects.get(pk=record.pk).message_id == "provider-1"
    account = services.do_verify_sign_in_code(PHONE, params["code"], ip=None)
    assert account.phone == PHONE


def test_a_refused_text_message_leaves_no_usable_code(db, settings):
    settings.GUANJIA_SMS_BACKEND = "guanjia.portal.tests.test_sign_in.RefusingGateway"
    with pytest.raises(ValidationError) as exc:
        services.do_send_sign_in_code(PHONE, ip=None)
    assert "could not be sent" in messages_of(exc, "phone")
    assert not SignInCode.objects.exists()


@pytest.mark.parametrize("phone", ["", "12345", "010-12345678", "2345678901234"])
def test_only_mainland_mobiles_get_codes(db, phone):
    with pytest.raises(ValidationError) as exc:
        services.do_send_sign_in_code(phone, ip=None)
    assert "valid mainland mobile" in messages_of(exc, "phone")
    assert not SignInCode.objects.exists()


def test_right_code_signs_in_once_and_creates_the_account(db):
    services.do_send_sign_in_code(PHONE, ip="10.0.0.1")
    code = last_code(PHONE)
    account = services.do_verify_sign_in_code(PHONE, code, ip="10.0.0.1")
    assert PortalAccount.objects.get().pk == account.pk and account.last_sign_in_at
    with pytest.raises(ValidationError) as exc:
        services.do_verify_sign_in_code(PHONE, code, ip="10.0.0.1")
    assert "used already" in messages_of(exc, "code")
    assert PortalAccount.objects.count() == 1


def test_wrong_code_is_refused_with_tries_left(db):
    services.do_send_sign_in_code(PHONE, ip=None)
    wrong = "000000" if last_code(PHONE) != "000000" else "111111"
    with pytest.raises(ValidationError) as exc:
        services.do_verify_sign_in_code(PHONE, wrong, ip=None)
    assert "wrong; 4 tries left" in messages_of(exc, "code")
    assert not PortalAccount.objects.exists()


def test_expired_code_is_refused(db, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    services.do_send_sign_in_code(PHONE, ip=None)
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(ValidationError) as exc:
        services.do_verify_sign_in_code(PHONE, last_code(PHONE), ip=None)
    assert "expired" in messages_of(exc, "code")
    assert not PortalAccount.objects.exists()


def test_only_the_newest_code_counts(db, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    services.do_send_sign_in_code(PHONE, ip=None)
    first = last_code(PHONE)
    clock.advance(minutes=1, seconds=1)
    services.do_send_sign_in_code(PHONE, ip=None)
    second = last_code(PHONE)
    if first != second:
        with pytest.raises(ValidationError):
            services.do_verify_sign_in_code(PHONE, first, ip=None)
    assert services.do_verify_sign_in_code(PHONE, second, ip=None).phone == PHONE


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_malformed_code_is_not_counted_as_a_guess(db, code):
    services.do_send_sign_in_code(PHONE, ip=None)
    with pytest.raises(ValidationError) as exc:
        services.do_verify_sign_in_code(PHONE, code, ip=None)
    assert "6-digit code" in messages_of(exc, "code")
    assert services.has_live_code(PHONE)


# --- rate limits and lockout --------------------------------------------------------------------------


def test_one_code_per_minute_and_five_per_hour_per_phone(db, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    services.do_send_sign_in_code(PHONE, ip=None)
    with pytest.raises(ValidationError) as exc:
        services.do_send_sign_in_code(PHONE, ip=None)
    assert "Ask again in 60 seconds" in messages_of(exc, "phone")
    for _ in range(4):
        clock.advance(minutes=1, seconds=1)
        services.do_send_sign_in_code(PHONE, ip=None)
    assert SignInCode.objects.count() == 5
    clock.advance(minutes=1, seconds=1)
    with pytest.raises(ValidationError) as exc:
        services.do_send_sign_in_code(PHONE, ip=None)
    assert "Ask again in 55 minutes" in messages_of(exc, "phone")
    assert SignInCode.objects.count() == 5
    clock.advance(minutes=55)
    services.do_send_sign_in_code(PHONE, ip=None)
    assert SignInCode.objects.count() == 6


def test_codes_per_address_are_limited_across_phones(db, settings, clock):
    settings.GUANJIA_PORTAL_CODE_LIMITS_PER_IP = [(3, services.timedelta(hours=1))]
    clock.set(at(2025, 11, 3, 9, 0))
    for phone in ("13800000001", "13800000002", "13800000003"):
        services.do_send_sign_in_code(phone, ip="10.9.9.9")
    with pytest.raises(ValidationError) as exc:
        services.do_send_sign_in_code("13800000004", ip="10.9.9.9")
    assert "from your network" in messages_of(exc, "phone")
    services.do_send_sign_in_code("13800000004", ip="10.9.9.10")
    assert SignInCode.objects.filter(phone="13800000004").count() == 1


def test_five_wrong_codes_lock_the_phone_for_fifteen_minutes(db, clock):
    clock.set(at(2025, 11, 3, 9, 0))
    services.do_send_sign_in_code(PHONE, ip=None)
    right = last_code(PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(ValidationError):
            services.do_verify_sign_in_code(PHONE, wrong, ip=None)
    with pytest.raises(ValidationError) as exc:
        services.do_verify_sign_in_code(PHONE, wrong, ip=None)
    assert "Too many wrong codes. Try again in 15 minutes" in messages_of(exc, "code")
    # Locked: even the right code is refused, and no new code is sent.
    with pytest.raises(ValidationError) as exc:
        services.do_verify_sign_in_code(PHONE, right, ip=None)
    assert "Too many wrong codes" in messages_of(exc, "code")
    with pytest.raises(ValidationError) as exc:
        services.do_send_sign_in_code(PHONE, ip=None)
    assert "Too many wrong codes" in messages_of(exc, "phone")
    assert not PortalAccount.objects.exists()
    # After the lockout the code sent before it is spent; a new one works.
    clock.advance(minutes=15, seconds=1)
    with pytest.raises(ValidationError):
        services.do_verify_sign_in_code(PHONE, right, ip=None)
    services.do_send_sign_in_code(PHONE, ip=None)
    assert services.do_verify_sign_in_code(PHONE, last_code(PHONE), ip=None).phone == PHONE


def test_wrong_codes_from_one_address_are_limited_across_phones(db, settings):
    settings.GUANJIA_PORTAL_SIGN_IN_FAILURES_PER_IP = 3
    phones = ["13800000001", "13800000002", "13800000003", "13800000004"]
    for phone in phones:
        services.do_send_sign_in_code(phone, ip=f"10.1.1.{phones.index(phone)}")
    for phone in phones[:3]:
        wrong = "000000" if last_code(phone) != "000000" else "111111"
        with pytest.raises(ValidationError):
            services.do_verify_sign_in_code(phone, wrong, ip="10.7.7.7")
    with pytest.raises(ValidationError) as exc:
        services.do_verify_sign_in_code(phones[3], last_code(phones[3]), ip="10.7.7.7")
    assert "from your network" in messages_of(exc, "code")
    assert services.do_verify_sign_in_code(phones[3], last_code(phones[3]), ip="10.7.7.8")


def test_disabled_account_cannot_sign_in(db):
    PortalAccount.objects.create(phone=PHONE, is_active=False)
    services.do_send_sign_in_code(PHONE, ip=None)
    with pytest.raises(ValidationError) as exc:
        services.do_verify_sign_in_code(PHONE, last_code(PHONE), ip=None)
    assert "disabled" in messages_of(exc, "phone")


# --- the pages and the session -------------------------------------------------------------------------


def test_owner_session_is_its_own_cookie_and_never_a_staff_session(client, db):
    response = client.get("/m/")
    assert response.status_code == 302 and response["Location"].startswith("/m/sign-in/?next=/m/")
    response = client.post("/m/sign-in/", {"action": "send", "phone": PHONE})
    assert response.status_code == 200 and 'name="code"' in response.content.decode()
    response = client.post("/m/sign-in/", {"action": "verify", "phone": PHONE, "code": last_code(PHONE)})
    assert response.status_code == 302 and response["Location"] == "/m/"
    cookie = response.cookies["gj_portal"]
    assert cookie["httponly"] and cookie["path"] == "/m/" and cookie["samesite"] == "Lax"
    assert PortalSession.objects.get().key_digest != cookie.value
    assert "_auth_user_id" not in client.session
    assert client.get("/m/").status_code == 200
    # The console still wants a staff login.
    assert client.get("/").status_code == 302
    assert client.get("/cases/").status_code == 302
    assert client.get("/api/v1/cases/").status_code in (401, 403, 404)


def test_staff_session_does_not_open_the_portal(client, pw):
    client.force_login(pw.specialist)
    response = client.get("/m/")
    assert response.status_code == 302 and "/m/sign-in/" in response["Location"]


def test_sign_in_page_shows_errors_by_field(client, db):
    response = client.post("/m/sign-in/", {"action": "send", "phone": "12345"})
    assert "valid mainland mobile" in response.content.decode()
    assert not SignInCode.objects.exists()
    client.post("/m/sign-in/", {"action": "send", "phone": PHONE})
    response = client.post("/m/sign-in/", {"action": "verify", "phone": PHONE, "code": "12"})
    assert "6-digit code" in response.content.decode()
    assert "gj_portal" not in response.cookies


def test_sending_again_too_early_keeps_the_code_step(client, db):
    client.post("/m/sign-in/", {"action": "send", "phone": PHONE})
    response = client.post("/m/sign-in/", {"action": "send", "again": "1", "phone": PHONE})
    page = response.content.decode()
    assert 'name="code"' in page and "Ask again in" in page
    assert SignInCode.objects.count() == 1


def test_next_must_stay_inside_the_portal(client, db):
    client.post("/m/sign-in/", {"action": "send", "phone": PHONE})
    response = client.post(
        "/m/sign-in/", {"action": "verify", "phone": PHONE, "code": last_code(PHONE), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/m/"


def test_sign_out_ends_the_session(client, db):
    portal_login(client, PHONE)
    assert client.get("/m/").status_code == 200
    response = client.post("/m/sign-out/")
    assert response.status_code == 302
    assert not PortalSession.objects.exists()
    assert client.get("/m/").status_code == 302


def test_expired_session_is_signed_out(client, db, clock):
    from datetime import timedelta

    from django.utils import timezone

    portal_login(client, PHONE)
    PortalSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/m/").status_code == 302


def test_forms_need_the_csrf_token(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    response = strict.post("/m/sign-in/", {"action": "send", "phone": PHONE})
    assert response.status_code == 403
    assert not SignInCode.objects.exists()
    page = strict.get("/m/sign-in/").content.decode()
    assert "csrfmiddlewaretoken" in page
