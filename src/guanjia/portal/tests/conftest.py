import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from guanjia.cases.models import Category
from guanjia.estate.choices import OccupancyRole
from guanjia.estate.identity import id_check_digit, protect_id_number
from guanjia.estate.models import Occupancy
from guanjia.portal import services
from guanjia.portal.models import DevOutboxMessage
from guanjia.testing import make_party

SHANGHAI = ZoneInfo("Asia/Shanghai")
OWNER_A_ID = "11010519800101123" + id_check_digit("11010519800101123")
OWNER_B_ID = "11010519850505432" + id_check_digit("11010519850505432")
RESIDENT_ID = "11010520100606001" + id_check_digit("11010520100606001")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def with_id(party, id_number):
    party.id_number_encrypted, party.id_number_digest, party.id_number_masked = protect_id_number(id_number)
    party.save()
    return party


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English, the source language (the zh-Hans catalogue is merged separately)."""
    with translation.override("en"):
        yield


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def pw(world):
    """The test world with ID numbers on the owners, a resident in 1502 and the leak category.

    张伟 owns 1栋1单元501 (area A, no butler); 李娜 owns 3栋2单元1502 (area B, butler "butler");
    李小明 lives in 1502 as a resident.
    """
    w = world
    with_id(w.owner_a, OWNER_A_ID)
    with_id(w.owner_b, OWNER_B_ID)
    w.resident_b = with_id(make_party("李小明", w.project, "13700001502"), RESIDENT_ID)
    Occupancy.objects.create(party=w.resident_b, unit=w.unit_b, role=OccupancyRole.RESIDENT, start=date(2024, 1, 1))
    w.leak = Category.objects.get(name="卫生间渗漏")
    return w


def last_code(phone: str) -> str:
    return DevOutboxMessage.objects.filter(phone=phone).order_by("-created_at", "-id").first().params["code"]


def sign_in_account(phone: str, ip: str = "10.0.0.1"):
    services.do_send_sign_in_code(phone, ip=ip)
    return services.do_verify_sign_in_code(phone, last_code(phone), ip=ip)


def bound_account(w, party, unit, id_number, phone=None):
    account = sign_in_account(phone or party.phone)
    services.do_bind_unit_by_identity(account, unit=unit, name=party.name, id_tail=id_number[-6:])
    return account


@pytest.fixture
def owner_b(pw):
    return bound_account(pw, pw.owner_b, pw.unit_b, OWNER_B_ID)


@pytest.fixture
def owner_a(pw):
    return bound_account(pw, pw.owner_a, pw.unit_a, OWNER_A_ID)


def portal_login(client, phone: str):
    """Sign in through the pages, as an owner would (forgetting earlier codes' rate limits)."""
    from guanjia.portal.models import RateEvent

    RateEvent.objects.filter(key=phone).delete()
    client.post("/m/sign-in/", {"action": "send", "phone": phone})
    response = client.post("/m/sign-in/", {"action": "verify", "phone": phone, "code": last_code(phone)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def jpeg(size=(1200, 900), *, gps=False, colour=(200, 120, 40), fmt="JPEG") -> io.BytesIO:
    """An image file; with `gps`, a JPEG whose EXIF carries a camera and a GPS position."""
    from PIL import Image

    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"  # Make
        exif[0x0110] = "Model 1"  # Model
        gps_ifd = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
        exif[0x8825] = gps_ifd
        image.save(out, fmt, exif=exif.tobytes(), comment=b"secret comment")
    else:
        image.save(out, fmt)
    out.seek(0)
    out.name = "photo.jpg" if fmt == "JPEG" else f"photo.{fmt.lower()}"
    return out


def upload(data: io.BytesIO, name=None, content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name or data.name, data.getvalue(), content_type=content_type)


def later(minutes=0, seconds=0, hours=0, days=0) -> timedelta:
    return timedelta(minutes=minutes, seconds=seconds, hours=hours, days=days)


@pytest.fixture
def clock(monkeypatch):
    """Move "now" for the services: clock.set(at(2025, 11, 3, 9, 0)); clock.advance(minutes=2)."""

    class Clock:
        now = None

        def set(self, moment: datetime) -> datetime:
            self.now = moment
            monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)
            return moment

        def advance(self, **delta) -> datetime:
            return self.set(self.now + timedelta(**delta))

    return Clock()
