"""Reporting from the portal and following the request: intake through the cases services, photos
re-encoded without location data, the first-contact rule, the customer-visible timeline, the promise
in plain words, added information, and an owner seeing nothing of other households."""

import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from guanjia.cases import services as cs
from guanjia.cases.choices import CaseStatus, CaseType, Channel, EventKind, Visibility
from guanjia.cases.models import Attachment, Case, CaseEvent
from guanjia.org.choices import Role, ScopeLevel
from guanjia.portal import presenters, services
from guanjia.portal.queries import active_bindings, cases_for_account
from guanjia.testing import make_staff

from .conftest import at, bound_account, jpeg, portal_login, upload

LEAK = "卫生间漏水，楼下天花板有水渍"


def report(account, w, **extra):
    data = {
        "binding": active_bindings(account).get(),
        "case_type": CaseType.REPAIR,
        "category": w.leak,
        "description": LEAK,
    }
    data.update(extra)
    return services.do_report_case(account, **data)


# --- intake -------------------------------------------------------------------------------------------


def test_report_is_recorded_for_the_owner_and_unit_by_the_area_butler(pw, owner_b):
    case = report(owner_b, pw)
    assert (case.channel, case.party, list(case.units.all()), case.owner) == (
        Channel.PORTAL,
        pw.owner_b,
        [pw.unit_b],
        pw.butler,
    )
    assert case.caller_phone == pw.owner_b.phone
    assert case.resolution_due and case.sla_policy.name == "渗漏 4 小时"
    assert list(cases_for_account(owner_b)) == [case]


def test_first_contact_rule_butler_then_specialist_then_team_lead(pw):
    assert services.first_contact_staff(pw.unit_b) == pw.butler
    # 1栋 (area A) has no butler: the project's specialist.
    assert services.first_contact_staff(pw.unit_a) == pw.specialist
    pw.specialist.is_active = False
    pw.specialist.save()
    company_specialist = make_staff("cs_company", Role.SPECIALIST, ScopeLevel.COMPANY, company=pw.company)
    assert services.first_contact_staff(pw.unit_a) == company_specialist
    company_specialist.is_active = False
    company_specialist.save()
    lead = make_staff("lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=pw.project)
    assert services.first_contact_staff(pw.unit_a) == lead
    lead.is_active = False
    lead.save()
    assert services.first_contact_staff(pw.unit_a) is None


def test_without_anyone_to_own_it_nothing_is_recorded(pw, owner_a):
    pw.specialist.is_active = False
    pw.specialist.save()
    with pytest.raises(ValidationError) as exc:
        report(owner_a, pw)
    assert "call the service centre" in " ".join(exc.value.messages)
    assert not Case.objects.exists()


def test_same_form_sent_twice_records_one_request(pw, owner_b):
    first = report(owner_b, pw, idempotency_key="k1", photos=[upload(jpeg())])
    second = report(owner_b, pw, idempotency_key="k1", photos=[upload(jpeg())])
    assert first.pk == second.pk and Case.objects.count() == 1
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"description": "  "}, "description"),
        ({"case_type": CaseType.PRAISE}, "case_type"),
        ({"description": "x" * 2001}, "description"),
    ],
)
def test_bad_input_names_the_field_and_records_nothing(pw, owner_b, extra, field):
    with pytest.raises(ValidationError) as exc:
        report(owner_b, pw, **extra)
    assert field in exc.value.message_dict
    assert not Case.objects.exists()


# --- photos -------------------------------------------------------------------------------------------


def test_photos_are_reencoded_without_exif_or_gps(pw, owner_b):
    original = jpeg((3000, 2000), gps=True)
    with Image.open(io.BytesIO(original.getvalue())) as check:
        assert check.getexif().get_ifd(0x8825)  # the test file really carries a position
    case = report(owner_b, pw, photos=[upload(original), upload(jpeg(fmt="PNG"), content_type="image/png")])
    attachments = list(case.attachments.order_by("id"))
    assert len(attachments) == 2 and all(a.name.endswith(".jpg") for a in attachments)
    for attachment in attachments:
        with attachment.file.open("rb") as handle:
            data = handle.read()
        with Image.open(io.BytesIO(data)) as stored:
            assert stored.format == "JPEG"
            assert max(stored.size) <= 2048
            assert not stored.getexif()
            assert "exif" not in stored.info and "comment" not in stored.info
        assert b"TestCam" not in data and b"secret comment" not in data
    assert CaseEvent.objects.filter(case=case, kind=EventKind.ATTACHMENT).count() == 2


def test_non_image_is_refused_with_a_clear_message_and_nothing_stored(pw, owner_b):
    fake = upload(io.BytesIO(b"%PDF-1.4 not a photo"), name="invoice.jpg")
    with pytest.raises(ValidationError) as exc:
        report(owner_b, pw, photos=[upload(jpeg()), fake])
    assert exc.value.message_dict["photos"] == ["Photo 2 is not a picture; choose a JPEG, PNG or WebP photo."]
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_oversize_photo_is_refused(pw, owner_b, settings):
    settings.GUANJIA_PORTAL_MAX_PHOTO_BYTES = 20_000
    big = jpeg((1600, 1600))
    big = upload(io.BytesIO(big.getvalue() + b"\0" * 30_000), name="big.jpg")
    with pytest.raises(ValidationError) as exc:
        report(owner_b, pw, photos=[big])
    assert "Photo 1 is too large" in exc.value.message_dict["photos"][0]
    assert not Case.objects.exists()


def test_too_many_photos_are_refused(pw, owner_b):
    with pytest.raises(ValidationError) as exc:
        report(owner_b, pw, photos=[upload(jpeg((40, 40))) for _ in range(10)])
    assert "at most 9 photos" in exc.value.message_dict["photos"][0]
    assert not Case.objects.exists()


def test_decompression_bomb_is_refused(pw, owner_b, settings):
    settings.GUANJIA_PORTAL_MAX_PHOTO_PIXELS = 1000
    with pytest.raises(ValidationError) as exc:
        report(owner_b, pw, photos=[upload(jpeg((100, 100)))])
    assert "too many pixels" in exc.value.message_dict["photos"][0]


# --- following ------------------------------------------------------------------------------------------


def test_timeline_shows_only_what_the_customer_may_see(pw, owner_b):
    case = report(owner_b, pw)
    cs.do_add_note(pw.butler, case, note="内部：疑似楼上防水层破损", visibility=Visibility.INTERNAL)
    cs.do_add_note(pw.butler, case, note="师傅明天上午10点上门", visibility=Visibility.CUSTOMER)
    case = cs.do_dispatch_case(pw.butler, case, expected_version=None, department=pw.dept)
    events = list(CaseEvent.objects.filter(case=case, visibility=Visibility.CUSTOMER))
    texts = [e.text for e in presenters.timeline(case, events)]
    assert "师傅明天上午10点上门" in texts and LEAK in texts
    assert not any("内部" in t for t in texts)


def test_case_page_shows_status_promise_and_hides_internal_notes(client, pw, owner_b):
    case = report(owner_b, pw)
    cs.do_add_note(pw.butler, case, note="内部：疑似楼上防水层破损", visibility=Visibility.INTERNAL)
    portal_login(client, pw.owner_b.phone)
    page = client.get(f"/m/requests/{case.pk}/").content.decode()
    assert 'data-status="recorded"' in page and LEAK in page
    assert 'id="promise"' in page and "repair team will take care of it" in page
    assert "内部" not in page and pw.butler.username not in page


def test_promise_in_plain_words_from_the_stored_deadlines(pw, owner_b, clock):
    # Monday 13:00: a leak gets 12 minutes to respond and 4 working hours to resolve (17:00 the same day).
    clock.set(at(2025, 11, 3, 13, 0))
    case = report(owner_b, pw)
    lines = presenters.sla_promise(case, clock.now)
    assert lines == [
        "Customer service will contact you within 12 minutes.",
        "The repair team will take care of it within 4 hours.",
    ]
    # Evening: the clock runs from the next start of work, so the promise gives the time.
    clock.set(at(2025, 11, 3, 19, 0))
    case = report(owner_b, pw, idempotency_key="evening")
    lines = presenters.sla_promise(case, clock.now)
    assert lines[0] == "Customer service will contact you by tomorrow 08:42."
    assert lines[1].startswith("The repair team will take care of it by tomorrow")
    # Overdue: an apology rather than a broken promise.
    clock.set(at(2025, 11, 6, 9, 0))
    assert "longer than we promised" in presenters.sla_promise(case, clock.now)[-1]
    # Suspended: the clock is paused.
    case = cs.do_suspend_case(pw.butler, case, expected_version=None, reason="等业主在家")
    assert "paused" in presenters.sla_promise(case, clock.now)[0]


def test_owner_adds_information_when_asked(client, pw, owner_b):
    case = report(owner_b, pw)
    cs.do_add_note(pw.butler, case, note="请补充一张楼下天花板的照片", visibility=Visibility.CUSTOMER)
    portal_login(client, pw.owner_b.phone)
    assert 'id="asked"' in client.get(f"/m/requests/{case.pk}/").content.decode()
    response = client.post(
        f"/m/requests/{case.pk}/add/", {"note": "已拍照，见附件", "photos": [upload(jpeg(gps=True))]}
    )
    assert response.status_code == 302
    event = CaseEvent.objects.filter(case=case, kind=EventKind.NOTE).last()
    assert (event.note, event.visibility, event.actor) == ("已拍照，见附件", Visibility.CUSTOMER, None)
    assert event.data["from_customer"] is True
    case.refresh_from_db()
    # The owner's own words are no reply from the company: the clocks do not move.
    assert case.replied_at is None or case.replied_at < event.time
    assert case.attachments.count() == 1
    page = client.get(f"/m/requests/{case.pk}/").content.decode()
    assert 'id="asked"' not in page and "已拍照，见附件" in page


def test_adding_information_refuses_empty_and_bad_photos(client, pw, owner_b):
    case = report(owner_b, pw)
    portal_login(client, pw.owner_b.phone)
    response = client.post(f"/m/requests/{case.pk}/add/", {"note": " "})
    assert response.status_code == 400 and "Write what you want to add" in response.content.decode()
    bad = upload(io.BytesIO(b"GIF89a broken"), name="x.gif", content_type="image/gif")
    response = client.post(f"/m/requests/{case.pk}/add/", {"note": "看图", "photos": [bad]})
    assert response.status_code == 400 and "Photo 1 is not a picture" in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.NOTE).exists()
    assert not case.attachments.exists()


def test_report_page_records_with_photos(client, pw, owner_b):
    portal_login(client, pw.owner_b.phone)
    page = client.get("/m/requests/new/").content.decode()
    assert "卫生间渗漏" in page and 'enctype="multipart/form-data"' in page
    binding = active_bindings(owner_b).get()
    response = client.post(
        "/m/requests/new/",
        {
            "binding": binding.pk,
            "case_type": "repair",
            "category": pw.leak.pk,
            "description": LEAK,
            "photos": [upload(jpeg(gps=True)), upload(jpeg())],
            "idempotency_key": "abc",
        },
    )
    case = Case.objects.get()
    assert response["Location"] == f"/m/requests/{case.pk}/?new=1"
    assert case.attachments.count() == 2
    page = client.get(response["Location"]).content.decode()
    photo = case.attachments.first()
    assert f"/m/requests/{case.pk}/photos/{photo.pk}/" in page
    served = client.get(f"/m/requests/{case.pk}/photos/{photo.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"


def test_report_page_refuses_a_non_image_with_a_clear_message(client, pw, owner_b):
    portal_login(client, pw.owner_b.phone)
    binding = active_bindings(owner_b).get()
    response = client.post(
        "/m/requests/new/",
        {
            "binding": binding.pk,
            "case_type": "repair",
            "description": LEAK,
            "photos": [upload(io.BytesIO(b"MZ\x90\x00 exe"), name="photo.jpg")],
        },
    )
    assert response.status_code == 200
    assert "Photo 1 is not a picture" in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_report_page_cannot_use_another_accounts_binding(client, pw, owner_b, owner_a):
    portal_login(client, pw.owner_a.phone)
    other = active_bindings(owner_b).get()
    response = client.post("/m/requests/new/", {"binding": other.pk, "case_type": "repair", "description": LEAK})
    assert response.status_code == 200 and not Case.objects.exists()


def test_unbound_owner_is_sent_to_bind_first(client, pw):
    portal_login(client, "13600000001")
    response = client.get("/m/requests/new/")
    assert response.status_code == 302 and response["Location"].startswith("/m/units/bind/")


# --- seeing nothing of other households ----------------------------------------------------------------


def test_another_owners_case_and_photos_are_404(client, pw, owner_b, owner_a):
    case = report(owner_b, pw, photos=[upload(jpeg())])
    photo = case.attachments.get()
    portal_login(client, pw.owner_a.phone)
    for url in (
        f"/m/requests/{case.pk}/",
        f"/m/requests/{case.pk}/photos/{photo.pk}/",
        f"/m/requests/{case.pk + 1000}/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert LEAK not in response.content.decode()
    for url in (f"/m/requests/{case.pk}/add/", f"/m/requests/{case.pk}/rate/"):
        assert client.post(url, {"note": "x", "stars": 5}).status_code == 404
    assert LEAK not in client.get("/m/requests/").content.decode()
    assert CaseEvent.objects.filter(case=case, kind=EventKind.NOTE).count() == 0


def test_household_sees_each_others_requests_only_when_the_owner_shares(pw, owner_b):
    from .conftest import RESIDENT_ID

    resident = bound_account(pw, pw.resident_b, pw.unit_b, RESIDENT_ID)
    case = report(owner_b, pw)
    own = report(resident, pw, description="楼道灯不亮", case_type=CaseType.REPAIR, category=None)
    assert list(cases_for_account(resident)) == [own]
    assert list(cases_for_account(owner_b)) == [case]
    services.do_set_household_sharing(owner_b, active_bindings(owner_b).get(), enabled=True)
    assert set(cases_for_account(resident)) == {case, own}
    assert set(cases_for_account(owner_b)) == {case, own}
    services.do_set_household_sharing(owner_b, active_bindings(owner_b).get(), enabled=False)
    assert list(cases_for_account(resident)) == [own]


def test_earlier_occupants_cases_stay_hidden_even_when_shared(pw, owner_b):
    cs.do_record_case(
        pw.specialist,
        project=pw.project,
        case_type=CaseType.COMPLAINT,
        channel=Channel.HOTLINE,
        description="前业主的投诉",
        units=[pw.unit_b],
        caller_name="前业主",
    )
    services.do_set_household_sharing(owner_b, active_bindings(owner_b).get(), enabled=True)
    assert not cases_for_account(owner_b).exists()


def test_hotline_case_of_the_same_owner_and_unit_is_visible(pw, owner_b):
    case = cs.do_record_case(
        pw.specialist,
        project=pw.project,
        case_type=CaseType.REPAIR,
        channel=Channel.HOTLINE,
        description="电话报修：厨房水龙头漏水",
        units=[pw.unit_b],
        party=pw.owner_b,
    )
    assert list(cases_for_account(owner_b)) == [case]
    assert case.status == CaseStatus.RECORDED


def test_staff_attachments_stay_in_the_console(client, pw, owner_b):
    from django.core.files.base import ContentFile

    case = report(owner_b, pw, photos=[upload(jpeg())])
    internal = cs.do_add_attachment(pw.butler, case, file=ContentFile(b"%PDF cost sheet", name="cost.pdf"))
    portal_login(client, pw.owner_b.phone)
    page = client.get(f"/m/requests/{case.pk}/").content.decode()
    assert f"/photos/{internal.pk}/" not in page
    assert client.get(f"/m/requests/{case.pk}/photos/{internal.pk}/").status_code == 404


def test_the_first_contact_owner_is_told_of_a_portal_request(pw, owner_b):
    from guanjia.notifications.models import Notification

    case = report(owner_b, pw)
    notification = Notification.objects.get(recipient=pw.butler, case=case)
    assert "owner portal" in notification.title and notification.kind == "case_assigned"


def test_hourly_cleanup_forgets_old_codes_sessions_and_counts(pw, clock):
    from guanjia.portal.models import PortalSession, RateEvent, SignInCode
    from guanjia.portal.tasks import purge_expired

    clock.set(at(2025, 11, 3, 9, 0))
    services.do_send_sign_in_code("13600000001", ip="10.0.0.1")
    PortalSession.objects.create(account=owner_b_account(pw), key_digest="x" * 64, expires_at=clock.now)
    assert purge_expired(clock.now + services.timedelta(days=3)) >= 4
    assert not SignInCode.objects.exists() and not RateEvent.objects.exists()
    assert not PortalSession.objects.filter(key_digest="x" * 64).exists()


def owner_b_account(pw):
    from guanjia.portal.models import PortalAccount

    return PortalAccount.objects.get_or_create(phone=pw.owner_b.phone)[0]
