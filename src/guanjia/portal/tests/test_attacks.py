"""Attacks on the owner portal (/m/), each one a test that must keep passing.

- another household's requests, photos, bindings and notices, by id;
- forged, expired and disabled portal sessions, and the portal cookie tried on the console;
- a forged CSRF token on the portal's forms;
- photos and bodies over the limits;
- markup in what owners type (the request, added information, the rating comment), read back
  in the portal and in the console;
- photo file names with paths, NUL bytes, huge lengths and double extensions.

Staff-side attacks are in core/tests/test_attacks.py.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from guanjia.cases import services as cs
from guanjia.cases.models import Attachment, Case, CaseEvent
from guanjia.portal import services
from guanjia.portal.models import CaseRating, HouseholdSharing, PortalSession, UnitBinding
from guanjia.portal.queries import active_bindings
from guanjia.testing import PASSWORD

from .conftest import jpeg, portal_login, upload

SCRIPT = '<script>alert("gj")</script>'
IMG = "<img src=x onerror=alert(1)>"
LEAK = "李娜家的秘密：卫生间漏水"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def report(account, w, **extra):
    data = {"binding": active_bindings(account).get(), "case_type": "repair", "category": w.leak, "description": LEAK}
    return services.do_report_case(account, **{**data, **extra})


def fingerprint() -> tuple:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Attachment.objects.count(),
        CaseRating.objects.count(),
        UnitBinding.objects.filter(status="active").count(),
        HouseholdSharing.objects.count(),
    )


def stored_files(media) -> list[Path]:
    return [p for p in Path(media).rglob("*") if p.is_file()]


# --- another household ---------------------------------------------------------------------------


@pytest.fixture
def victim(pw, owner_b):
    """李娜 (owner of 1502) with a closed request carrying a photo, and a notice of another project."""
    w = pw
    w.case = report(owner_b, w, photos=[upload(jpeg())])
    w.photo = w.case.attachments.get()
    w.binding = active_bindings(owner_b).get()
    w.other_notice = services.do_publish_notice(
        w.admin, project=w.other_project, kind="announcement", title="锦江花园停水", body="只给锦江花园"
    )
    return w


@pytest.mark.parametrize(
    "url",
    [
        "/m/requests/{w.case.pk}/",
        "/m/requests/{w.case.pk}/photos/{w.photo.pk}/",
        "/m/notices/{w.other_notice.pk}/",
    ],
)
def test_another_households_pages_are_the_portals_404(client, victim, owner_a, url):
    portal_login(client, victim.owner_a.phone)
    response = client.get(url.format(w=victim))
    assert response.status_code == 404
    assert LEAK.encode() not in response.content
    assert "只给锦江花园".encode() not in response.content


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/m/requests/{w.case.pk}/add/", {"note": "入侵"}),
        ("/m/requests/{w.case.pk}/rate/", {"stars": "1", "comment": "入侵"}),
        ("/m/units/{w.binding.pk}/share/", {"enabled": "1"}),
        ("/m/units/{w.binding.pk}/remove/", {}),
    ],
)
def test_actions_on_another_households_rows_change_nothing(client, victim, owner_a, url, data):
    portal_login(client, victim.owner_a.phone)
    before = fingerprint()
    response = client.post(url.format(w=victim), data)
    assert response.status_code == 404
    assert fingerprint() == before


def test_a_photo_of_another_request_is_not_found_under_ones_own(client, victim, owner_a):
    own = report(owner_a, victim, description="我家的诉求")
    portal_login(client, victim.owner_a.phone)
    assert client.get(f"/m/requests/{own.pk}/").status_code == 200
    assert client.get(f"/m/requests/{own.pk}/photos/{victim.photo.pk}/").status_code == 404


def test_reporting_for_another_households_unit_records_nothing(client, victim, owner_a):
    portal_login(client, victim.owner_a.phone)
    before = fingerprint()
    response = client.post(
        "/m/requests/new/", {"binding": victim.binding.pk, "case_type": "repair", "description": "冒名报修"}
    )
    assert response.status_code in (200, 400, 404)
    assert fingerprint() == before


# --- forged and stale sessions --------------------------------------------------------------------


def _signed_in_cookie(pw, phone) -> str:
    client = portal_login(Client(), phone)
    return client.cookies["gj_portal"].value


@pytest.mark.parametrize(
    "make_cookie",
    [
        pytest.param(lambda w: "A" * 43, id="forged"),
        pytest.param(lambda w: "A" * 5000, id="huge"),
        pytest.param(lambda w: _expired(w), id="expired"),
        pytest.param(lambda w: _disabled(w), id="disabled-account"),
        pytest.param(lambda w: _signed_out(w), id="signed-out"),
    ],
)
def test_forged_or_stale_portal_cookies_open_nothing(victim, make_cookie):
    client = Client()
    client.cookies["gj_portal"] = make_cookie(victim)
    for url in ("/m/requests/", f"/m/requests/{victim.case.pk}/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/m/sign-in/")
    before = fingerprint()
    client.post(f"/m/requests/{victim.case.pk}/add/", {"note": "入侵"})
    assert fingerprint() == before


def _expired(w) -> str:
    cookie = _signed_in_cookie(w, w.owner_b.phone)
    PortalSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    return cookie


def _disabled(w) -> str:
    cookie = _signed_in_cookie(w, w.owner_b.phone)
    for session in PortalSession.objects.select_related("account"):
        session.account.is_active = False
        session.account.save()
    return cookie


def _signed_out(w) -> str:
    client = portal_login(Client(), w.owner_b.phone)
    cookie = client.cookies["gj_portal"].value
    client.post("/m/sign-out/")
    return cookie


def test_the_portal_cookie_does_not_open_the_console_or_the_api(victim):
    client = portal_login(Client(), victim.owner_b.phone)
    response = client.get(f"/cases/{victim.case.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get(f"/api/v1/cases/{victim.case.pk}").status_code == 401
    # Nor does a staff password: owners and staff are different people.
    assert not Client().login(username=victim.owner_b.phone, password=PASSWORD)


# --- CSRF ---------------------------------------------------------------------------------------


def test_portal_forms_with_a_forged_csrf_token_are_refused(victim):
    client = Client(enforce_csrf_checks=True)
    client.cookies["gj_portal"] = _signed_in_cookie(victim, victim.owner_b.phone)
    assert client.get(f"/m/requests/{victim.case.pk}/").status_code == 200
    before = fingerprint()
    for url, data in (
        (f"/m/requests/{victim.case.pk}/add/", {"note": "伪造"}),
        ("/m/requests/new/", {"binding": victim.binding.pk, "case_type": "repair", "description": "伪造"}),
        (f"/m/units/{victim.binding.pk}/remove/", {}),
        ("/m/sign-out/", {}),
    ):
        response = client.post(url, {**data, "csrfmiddlewaretoken": "f" * 32})
        assert response.status_code == 403, url
    assert fingerprint() == before
    assert client.get("/m/requests/").status_code == 200  # still signed in


# --- over the limits ------------------------------------------------------------------------------


def test_a_photo_over_the_size_limit_is_refused_on_its_field_and_nothing_is_stored(client, victim, settings, _media):
    settings.GUANJIA_PORTAL_MAX_PHOTO_BYTES = 2048
    portal_login(client, victim.owner_b.phone)
    before, files = fingerprint(), stored_files(_media)
    response = client.post(
        f"/m/requests/{victim.case.pk}/add/",
        {"note": "再看看", "photos": [upload(jpeg(size=(800, 800), colour=(1, 2, 3)))]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert b"Photo 1 is too large" in response.content
    assert fingerprint() == before
    assert stored_files(_media) == files


def test_too_many_photos_are_refused_and_nothing_is_stored(client, victim, settings, _media):
    settings.GUANJIA_PORTAL_MAX_PHOTOS = 2
    portal_login(client, victim.owner_b.phone)
    before, files = fingerprint(), stored_files(_media)
    photos = [upload(jpeg(size=(50, 50))) for _ in range(3)]
    response = client.post(f"/m/requests/{victim.case.pk}/add/", {"note": "多图", "photos": photos})
    assert response.status_code == 400
    assert fingerprint() == before
    assert stored_files(_media) == files


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(client, victim, settings, _media):
    settings.GUANJIA_MAX_REQUEST_BYTES = 32 * 1024
    portal_login(client, victim.owner_b.phone)
    before, files = fingerprint(), stored_files(_media)
    big = upload(jpeg(size=(1500, 1500)))
    assert big.size > 32 * 1024
    response = client.post(f"/m/requests/{victim.case.pk}/add/", {"note": "大图", "photos": [big]})
    assert response.status_code == 413
    assert fingerprint() == before
    assert stored_files(_media) == files


def test_a_huge_pixel_count_is_refused(client, victim, settings):
    settings.GUANJIA_PORTAL_MAX_PHOTO_PIXELS = 100 * 100
    portal_login(client, victim.owner_b.phone)
    before = fingerprint()
    response = client.post(
        f"/m/requests/{victim.case.pk}/add/",
        {"note": "像素", "photos": [upload(jpeg(size=(101, 100)))]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert b"too many pixels" in response.content
    assert fingerprint() == before


# --- markup in what owners type ------------------------------------------------------------------


def test_owner_text_is_escaped_in_the_portal_and_the_console(client, pw, owner_b):
    case = report(owner_b, pw, description=f"{SCRIPT}漏水")
    services.do_add_case_information(owner_b, case, note=f"{IMG}补充")
    cs.do_close_case(case.owner, case, expected_version=Case.objects.get(pk=case.pk).version)
    services.do_rate_case(owner_b, Case.objects.get(pk=case.pk), stars=2, comment=f"{SCRIPT}不满意")

    portal_login(client, pw.owner_b.phone)
    for url in (f"/m/requests/{case.pk}/", "/m/requests/"):
        page = client.get(url).content
        assert SCRIPT.encode() not in page and IMG.encode() not in page, url
    page = client.get(f"/m/requests/{case.pk}/").content.decode()
    assert "&lt;script&gt;alert(&quot;gj&quot;)&lt;/script&gt;漏水" in page
    assert "&lt;img src=x onerror=alert(1)&gt;补充" in page
    assert "&lt;script&gt;alert(&quot;gj&quot;)&lt;/script&gt;不满意" in page

    staff = Client()
    staff.login(username=case.owner.username, password=PASSWORD)
    page = staff.get(f"/cases/{case.pk}/").content
    assert SCRIPT.encode() not in page and IMG.encode() not in page
    assert "&lt;script&gt;alert(&quot;gj&quot;)&lt;/script&gt;不满意".encode() in page


def test_markup_in_a_notice_is_escaped_for_owners(client, pw, owner_b):
    notice = services.do_publish_notice(pw.admin, project=pw.project, kind="announcement", title=SCRIPT, body=IMG)
    portal_login(client, pw.owner_b.phone)
    for url in ("/m/", "/m/notices/", f"/m/notices/{notice.pk}/"):
        page = client.get(url).content
        assert SCRIPT.encode() not in page and IMG.encode() not in page, url


# --- photo file names -------------------------------------------------------------------------------


def _multipart(fields: dict, filename: str, content: bytes, content_type: str = "image/jpeg") -> tuple[bytes, str]:
    """A multipart body with the photo's file name exactly as given (Django's test client would strip it)."""
    boundary = "GuanjiaBoundary7MA4YWxk"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="'.encode()
        + filename.encode()
        + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    "filename",
    ["../../etc/passwd", "/etc/passwd", "..\\..\\boot.ini", "pho\x00to.jpg", "x" * 400 + ".jpg", "photo.jpg.html"],
)
def test_a_photo_is_stored_under_a_name_of_our_own_and_served_as_a_jpeg(client, victim, _media, filename):
    portal_login(client, victim.owner_b.phone)
    body, content_type = _multipart({"note": "看图"}, filename, jpeg(size=(64, 64)).getvalue())
    response = client.generic("POST", f"/m/requests/{victim.case.pk}/add/", body, content_type=content_type)
    assert response.status_code == 302, response.content[:1000]
    photo = Attachment.objects.filter(case=victim.case).order_by("-pk").first()
    assert photo.pk != victim.photo.pk
    stored = Path(photo.file.path).resolve()
    assert stored.is_relative_to(Path(_media).resolve() / "cases")
    assert stored.suffix == ".jpg" and stored.name.startswith("photo-1")
    assert photo.name == "photo-1.jpg"
    served = client.get(f"/m/requests/{victim.case.pk}/photos/{photo.pk}/")
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content)[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("photo.jpg.html", b"<html><script>alert(1)</script></html>"),
        ("photo.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        ("../../photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg <script>alert(1)</script>"),
    ],
)
def test_a_file_that_is_not_a_picture_is_refused_whatever_its_name(client, victim, _media, filename, content):
    portal_login(client, victim.owner_b.phone)
    before, files = fingerprint(), stored_files(_media)
    body, content_type = _multipart({"note": "看图"}, filename, content)
    response = client.generic(
        "POST", f"/m/requests/{victim.case.pk}/add/", body, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert b"Photo 1 is not a picture" in response.content
    assert fingerprint() == before
    assert stored_files(_media) == files
