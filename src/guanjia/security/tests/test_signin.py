"""Staff sign-in throttling: the account lockout, the address limit, the reset on success, the
admin's view and unlock, and what the sign-in page says."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db.models import F
from django.utils import timezone

from guanjia.org.choices import Role, ScopeLevel
from guanjia.security.models import LockoutKind, SignInLockout
from guanjia.security.tasks import purge_sign_in_records
from guanjia.testing import PASSWORD, make_staff

pytestmark = pytest.mark.django_db

OFFICE = "203.0.113.10"
HOME = "198.51.100.7"


@pytest.fixture
def staff(db):
    return make_staff("li.ming", Role.SPECIALIST, ScopeLevel.GROUP)


def sign_in(client, username, password, ip=OFFICE, path="/login/", agent="Chromium"):
    return client.post(
        path,
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT=agent,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def pass_time(minutes: int) -> None:
    """Move every counted failure and lockout `minutes` into the past."""
    delta = timedelta(minutes=minutes)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)
    SignInLockout.objects.update(started_at=F("started_at") - delta, until=F("until") - delta)


def test_wrong_password_says_how_many_tries_are_left(client, staff):
    response = sign_in(client, "li.ming", "wrong")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Wrong user name or password." in text
    assert "4 more wrong passwords lock this account for 15 minutes." in text
    response = sign_in(client, "li.ming", "wrong")
    assert "3 more wrong passwords" in response.content.decode()


def test_five_wrong_passwords_lock_the_account_even_with_the_right_one(client, staff):
    for _ in range(4):
        assert sign_in(client, "li.ming", "wrong").status_code == 200
    response = sign_in(client, "li.ming", "wrong")
    assert response.status_code == 429
    text = response.content.decode()
    assert 'id="login-locked"' in text
    assert "this account is locked. Try again in 15 minutes" in text

    response = sign_in(client, "li.ming", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)

    lockout = SignInLockout.objects.get()
    assert (lockout.kind, lockout.username, lockout.staff, lockout.ip) == (
        LockoutKind.ACCOUNT,
        "li.ming",
        staff,
        OFFICE,
    )
    assert lockout.failures == 5
    assert timedelta(minutes=14) < lockout.until - lockout.started_at <= timedelta(minutes=15)
    # The refused tries during the lockout neither counted nor started another lockout.
    assert AccessFailureLog.objects.filter(username="li.ming").count() == 5
    assert AccessFailureLog.objects.filter(username="li.ming", locked_out=True).count() == 1


def test_the_lockout_ends_after_fifteen_minutes(client, staff):
    for _ in range(5):
        sign_in(client, "li.ming", "wrong")
    pass_time(10)
    response = sign_in(client, "li.ming", PASSWORD)
    assert response.status_code == 429
    assert "Try again in 5 minutes" in response.content.decode()
    pass_time(6)
    response = sign_in(client, "li.ming", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_failures_count_for_the_user_name_from_any_address_or_browser(client, staff):
    for i in range(4):
        sign_in(client, "li.ming", "wrong", ip=f"192.0.2.{i + 1}", agent=f"Browser {i}")
    response = sign_in(client, "li.ming", "wrong", ip=HOME, agent="Another browser")
    assert response.status_code == 429
    assert sign_in(client, "li.ming", PASSWORD, ip="192.0.2.200").status_code == 429


def test_a_successful_sign_in_forgets_the_failures(client, staff):
    for _ in range(4):
        sign_in(client, "li.ming", "wrong")
    assert sign_in(client, "li.ming", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="li.ming").exists()
    record = AccessLog.objects.get(username="li.ming")
    assert record.ip_address == OFFICE

    client.post("/logout/")
    for _ in range(4):
        assert sign_in(client, "li.ming", "wrong").status_code == 200
    assert sign_in(client, "li.ming", PASSWORD).status_code == 302


def test_a_locked_account_does_not_lock_colleagues_at_the_same_address(client, staff):
    colleague = make_staff("wang.fang", Role.SPECIALIST, ScopeLevel.GROUP)
    for _ in range(5):
        sign_in(client, "li.ming", "wrong")
    response = sign_in(client, colleague.username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_too_many_failures_from_one_address_lock_the_address(client, staff, settings):
    settings.GUANJIA_LOGIN_FAILURES_PER_IP = 6
    for name in ("a", "b", "c"):
        sign_in(client, name, "wrong")
        sign_in(client, name, "wrong")
    # Six failures from the office: nobody signs in from there for now, not even with a good password.
    response = sign_in(client, "li.ming", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins from your network. Try again in 15 minutes." in response.content.decode()
    assert not signed_in(client)
    lockout = SignInLockout.objects.get()
    assert (lockout.kind, lockout.ip, lockout.failures) == (LockoutKind.ADDRESS, OFFICE, 6)
    # From another address the same person signs in.
    assert sign_in(client, "li.ming", PASSWORD, ip=HOME).status_code == 302


def test_the_admin_sign_in_is_throttled_too(client, staff):
    for _ in range(5):
        sign_in(client, "li.ming", "wrong", path="/admin/login/")
    response = sign_in(client, "li.ming", PASSWORD, path="/admin/login/")
    assert response.status_code == 429
    assert SignInLockout.objects.filter(username="li.ming").exists()


def test_an_administrator_sees_lockouts_and_sign_ins_and_unlocks(client, staff):
    admin = make_staff("admin", Role.ADMIN, ScopeLevel.GROUP, is_staff=True, is_superuser=True)
    for _ in range(5):
        sign_in(client, "li.ming", "wrong")
    lockout = SignInLockout.objects.get()

    admin_client = type(client)()
    admin_client.force_login(admin)
    for url in ("/admin/security/signinlockout/", "/admin/security/failedsignin/", "/admin/security/signinrecord/"):
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
    page = admin_client.get("/admin/security/signinlockout/").content.decode()
    assert "li.ming" in page and OFFICE in page

    response = admin_client.post(
        "/admin/security/signinlockout/",
        {"action": "unlock", "_selected_action": [lockout.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    lockout.refresh_from_db()
    assert lockout.unlocked_by == admin and lockout.unlocked_at is not None
    assert not lockout.is_active
    assert sign_in(client, "li.ming", PASSWORD).status_code == 302


def test_staff_without_admin_rights_cannot_open_the_lockouts(client, staff):
    client.force_login(staff)
    response = client.get("/admin/security/signinlockout/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_old_sign_in_records_are_purged(client, staff, settings):
    settings.GUANJIA_SIGN_IN_RECORDS_DAYS = 200
    for _ in range(5):
        sign_in(client, "li.ming", "wrong")
    pass_time(15 + 24 * 60)
    sign_in(client, "li.ming", PASSWORD)
    long_ago = timezone.now() - timedelta(days=201)
    AccessFailureLog.objects.update(attempt_time=long_ago)
    SignInLockout.objects.update(started_at=long_ago)
    purge_sign_in_records()
    assert not AccessFailureLog.objects.exists()
    assert not SignInLockout.objects.exists()
    assert AccessLog.objects.filter(username="li.ming").count() == 1
