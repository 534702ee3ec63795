"""The owner portal on a phone (390×844): sign in with an SMS code, bind a unit, report a leak with two
photos, follow it until it is dispatched and closed, rate it 2 stars and see it reopened; a second
owner cannot open the first owner's request by its URL. Also measures what the first page transfers,
and a butler approving a binding request and publishing a notice in the console."""

import io
import re
from datetime import date

import pytest
from PIL import Image

from guanjia.cases import services as cs
from guanjia.cases.models import Case, Category
from guanjia.estate.choices import OccupancyRole
from guanjia.estate.identity import id_check_digit, protect_id_number
from guanjia.estate.models import Occupancy
from guanjia.portal import services as portal_services
from guanjia.portal.choices import BindingStatus, NoticeKind
from guanjia.portal.models import DevOutboxMessage, NoticeRead, UnitBinding
from guanjia.testing import make_party

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_VIEWPORT = {"width": 390, "height": 844}
FIRST_PAGE_BUDGET = 200 * 1024
LI_NA_ID = "11010519850505432" + id_check_digit("11010519850505432")
ZHANG_WEI_ID = "11010519800101123" + id_check_digit("11010519800101123")


def with_id(party, id_number):
    party.id_number_encrypted, party.id_number_digest, party.id_number_masked = protect_id_number(id_number)
    party.save()


@pytest.fixture
def phone(browser):
    """A phone-sized page; `phone.transfers` collects (url, bytes) of every finished response."""
    context = browser.new_context(
        locale="zh-CN", viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.transfers = []

    def finished(request):
        sizes = request.sizes()
        page.transfers.append((request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"]))

    page.on("requestfinished", finished)
    yield page
    context.close()


def phone_photo(path, colour, *, gps: bool) -> str:
    """A 3000×2000 camera-sized JPEG; with `gps`, EXIF with a position (the browser must not pass it on)."""
    image = Image.new("RGB", (3000, 2000), colour)
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "TestCam"
        exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    image.save(path, "JPEG", exif=exif.tobytes(), quality=90)
    return str(path)


def code_for(number: str) -> str:
    return DevOutboxMessage.objects.filter(phone=number).order_by("-created_at", "-id").first().params["code"]


def sign_in(page, base: str, number: str, shot: str = "") -> None:
    page.goto(f"{base}/m/")
    page.wait_for_url(re.compile(r"/m/sign-in/"))
    page.fill("#id_phone", number)
    if shot:
        screenshot(page, f"{shot}-1-sign-in")
    page.locator("#phone-form button[type=submit]").click()
    page.locator("#code-form").wait_for()
    page.fill("#id_code", code_for(number))
    if shot:
        screenshot(page, f"{shot}-2-code")
    page.locator("#code-form button[type=submit]").click()
    page.wait_for_url(f"{base}/m/")


def bind(page, base: str, project_name: str, room: str, name: str, id_tail: str) -> None:
    page.goto(f"{base}/m/units/bind/")
    page.select_option("#id_project", label=project_name)
    page.fill("#id_room", room)
    page.fill("#id_name", name)
    page.fill("#id_id_tail", id_tail)
    page.locator("#bind-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/m/units/\?done=identity"))


def test_owner_reports_a_leak_rates_it_low_and_sees_it_reopened(phone, live_server, world, tmp_path, capsys):
    page, base = phone, live_server.url
    with_id(world.owner_b, LI_NA_ID)
    with_id(world.owner_a, ZHANG_WEI_ID)
    portal_services.do_publish_notice(
        world.specialist,
        project=world.project,
        kind=NoticeKind.WEATHER,
        title="暴雨黄色预警",
        body="今晚到明天有暴雨，请关好门窗，地下车库车辆请及时移至地面。",
        buildings=[world.b3],
    )

    # The first page an owner opens: measure everything it transfers.
    page.transfers.clear()
    page.goto(f"{base}/m/")
    page.wait_for_url(re.compile(r"/m/sign-in/"))
    page.wait_for_load_state("networkidle")
    first = list(page.transfers)
    total = sum(size for _, size in first)
    with capsys.disabled():
        print(f"\nportal first page (sign-in) transfer: {total} bytes in {len(first)} responses")
        for url, size in first:
            print(f"  {size:>7}  {url.replace(base, '')}")
    assert total < FIRST_PAGE_BUDGET
    assert not any("tabler" in url for url, _ in first)

    # 李娜 signs in with the code from the text message (the log backend's outbox).
    sign_in(page, base, world.owner_b.phone, shot="portal")
    screenshot(page, "portal-3-home-unbound")

    # … binds 3栋2单元1502 with her name and the last six characters of her ID card.
    page.goto(f"{base}/m/units/bind/")
    screenshot(page, "portal-4-bind")
    # Wrong digits first: refused, without saying whether the name or the digits were wrong.
    page.select_option("#id_project", label="绿色家园")
    page.fill("#id_room", "3栋2单元1502")
    page.fill("#id_name", "李娜")
    page.fill("#id_id_tail", "000000")
    page.locator("#bind-form button[type=submit]").click()
    page.locator(".alert.bad").wait_for()
    assert page.locator(".field.invalid").count() == 0
    screenshot(page, "portal-4b-bind-refused")
    assert not UnitBinding.objects.exists()
    bind(page, base, "绿色家园", "3栋2单元1502", "李娜", LI_NA_ID[-6:])
    assert "3栋2单元1502" in page.locator(f"[data-unit='{world.unit_b.pk}']").inner_text()
    screenshot(page, "portal-5-units")
    page.transfers.clear()
    page.goto(f"{base}/m/")
    page.wait_for_load_state("networkidle")
    home_total = sum(size for _, size in page.transfers)
    assert "暴雨黄色预警" in page.content()
    screenshot(page, "portal-5b-home")

    # A file that is no picture is refused with a clear message, and nothing is recorded.
    page.goto(f"{base}/m/requests/new/")
    page.fill("#id_description", "卫生间漏水")
    fake = tmp_path / "scan.jpg"
    fake.write_bytes(b"%PDF-1.4 this is not a photo")
    page.set_input_files("#id_photos", [str(fake)])
    page.locator(".photos .ph:not(.add)").first.wait_for()
    page.locator("#report-form button[type=submit]").click()
    page.locator("#report-form .error").wait_for()
    screenshot(page, "portal-6a-report-refused")
    assert not Case.objects.exists()

    # … reports a leak with two photos, shrunk in the browser.
    page.goto(f"{base}/m/requests/new/")
    page.locator("#report-form label:has(input[value=repair])").click()
    page.select_option("#id_category", label="渗漏 · 卫生间渗漏")
    page.fill("#id_description", "卫生间漏水，楼下天花板有水渍")
    page.set_input_files(
        "#id_photos",
        [
            phone_photo(tmp_path / "leak-1.jpg", (180, 160, 140), gps=True),
            phone_photo(tmp_path / "leak-2.jpg", (120, 140, 170), gps=False),
        ],
    )
    page.locator(".photos .ph img").nth(1).wait_for()
    assert page.locator(".photos .ph img").count() == 2
    assert page.evaluate("document.getElementById('id_photos').files[0].type") == "image/jpeg"
    assert page.evaluate("document.getElementById('id_photos').files[0].size") < 1_000_000
    screenshot(page, "portal-6-report")
    page.locator("#report-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/m/requests/\d+/\?new=1$"))
    case = Case.objects.get()
    assert (case.party, case.owner, case.channel) == (world.owner_b, world.butler, "portal")
    assert case.category == Category.objects.get(name="卫生间渗漏")
    assert page.locator("#case-status").get_attribute("data-status") == "recorded"
    assert page.locator("#promise").is_visible()
    assert page.locator(".thumbs img").count() == 2
    screenshot(page, "portal-7-reported")
    for attachment in case.attachments.all():
        with attachment.file.open("rb") as handle, Image.open(io.BytesIO(handle.read())) as stored:
            assert max(stored.size) <= 1600 and not stored.getexif()

    # Customer service dispatches it to engineering: the owner sees it dispatched.
    case = cs.do_dispatch_case(case.owner, case, expected_version=case.version, department=world.dept)
    page.reload()
    assert page.locator("#case-status").get_attribute("data-status") == "dispatched"
    screenshot(page, "portal-8-dispatched")

    # The work is done and the request closed; the owner is asked to rate it and gives 2 stars.
    case = cs.do_close_case(case.owner, case, expected_version=case.version, note="已更换卫生间防水层")
    page.reload()
    assert page.locator("#case-status").get_attribute("data-status") == "closed"
    page.locator("label[for=star2]").click()
    page.fill("#id_comment", "楼下天花板还在滴水")
    screenshot(page, "portal-9-rate")
    page.locator("#rate-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"\?rated=1$"))
    assert page.locator("#case-status").get_attribute("data-status") == "reopened"
    screenshot(page, "portal-10-reopened")
    case.refresh_from_db()
    follow_up = case.follow_ups.get()
    assert (case.status, case.reopened_count, follow_up.outcome) == ("reopened", 1, "dissatisfied")

    # A second owner signs in, binds his own unit, and guesses the first owner's request URL: not found.
    page.context.clear_cookies()
    sign_in(page, base, world.owner_a.phone)
    bind(page, base, "绿色家园", "1栋1单元501", "张伟", ZHANG_WEI_ID[-6:])
    response = page.goto(f"{base}/m/requests/{case.pk}/")
    assert response.status == 404
    assert page.locator("#not-found").is_visible()
    assert "卫生间漏水" not in page.content()
    screenshot(page, "portal-11-other-owner")
    photo = case.attachments.first()
    assert page.goto(f"{base}/m/requests/{case.pk}/photos/{photo.pk}/").status == 404
    page.goto(f"{base}/m/requests/")
    assert "卫生间漏水" not in page.content()
    # Nor through the staff API by its id: an owner's sign-in is not a staff credential.
    api = page.request.get(f"{base}/api/v1/cases/{case.pk}")
    assert api.status in (401, 403, 404)
    assert "卫生间漏水" not in api.text()
    with capsys.disabled():
        print(f"portal home page transfer after sign-in: {home_total} bytes (CSS and JS cached)")


def test_butler_approves_a_binding_request_and_publishes_a_notice(phone, browser, live_server, world):
    page, base = phone, live_server.url
    son = make_party("李小明", world.project, "13700001502")
    Occupancy.objects.create(party=son, unit=world.unit_b, role=OccupancyRole.RESIDENT, start=date(2024, 1, 1))

    # The son has no ID number on record: he asks the butler.
    sign_in(page, base, "13700001502")
    page.goto(f"{base}/m/units/bind/?mode=request")
    page.select_option("#id_project", label="绿色家园")
    page.fill("#id_room", "3-2-1502")
    page.fill("#id_name", "李小明")
    page.select_option("#id_relation", "family")
    page.fill("#id_note", "业主李娜的儿子")
    screenshot(page, "portal-12-ask-butler")
    page.locator("#bind-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"done=request"))
    screenshot(page, "portal-13-waiting")
    binding = UnitBinding.objects.get()
    assert binding.status == BindingStatus.PENDING

    # The butler of area B approves it in the console.
    console = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}).new_page()
    console.set_default_timeout(15000)
    console.goto(f"{base}/login/")
    from guanjia.testing import PASSWORD

    console.fill("#id_username", world.butler.username)
    console.fill("#id_password", PASSWORD)
    console.click("button[type=submit]")
    console.wait_for_url(f"{base}/")
    console.goto(f"{base}/portal/bindings/")
    row = console.locator(f"tr[data-binding='{binding.pk}']")
    assert "李小明" in row.inner_text()
    screenshot(console, "portal-console-1-bindings")
    row.locator("select").select_option(str(son.pk))
    row.locator("button.btn-primary").click()
    console.wait_for_load_state()
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE and binding.decided_by == world.butler

    # … and publishes a warning for 3栋, which the son reads.
    console.goto(f"{base}/portal/notices/new/")
    console.select_option("#id_project", str(world.project.pk))
    console.select_option("#id_kind", "weather")
    console.fill("#id_title", "寒潮蓝色预警")
    console.fill("#id_body", "明晚气温骤降至零下10度，请做好水管防冻。")
    console.locator(f"input[name=buildings][value='{world.b3.pk}']").check(force=True)
    console.locator("#notice-form button[type=submit]").click()
    console.wait_for_url(re.compile(r"/portal/notices/\d+/$"))
    page.goto(f"{base}/m/")
    page.locator("a.alert.warn").first.click()
    page.wait_for_url(re.compile(r"/m/notices/\d+/$"))
    assert "水管防冻" in page.content()
    screenshot(page, "portal-14-notice")
    assert NoticeRead.objects.count() == 1
    console.reload()
    assert console.locator("#read-count").get_attribute("data-read") == "1"
    screenshot(console, "portal-console-2-notice")
    console.context.close()
