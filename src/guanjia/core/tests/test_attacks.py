"""Attacks on the staff console and the REST API, each one a test that must keep passing.

- ids of another city company's rows on every detail, download, attachment and action address;
- forged, expired and revoked API tokens, forged and stale session cookies;
- a forged CSRF token on a console form and on an API write made with the session;
- request bodies larger than the limits;
- markup in text fields (request description, notes, party names) read back in the console,
  the xlsx exports and the API, and formula-looking text in the exports;
- uploaded file names with paths, NUL bytes, huge lengths and double extensions.

The owner portal has its own file: portal/tests/test_attacks.py.
"""

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from guanjia.cases import services as case_services
from guanjia.cases.choices import CaseType, Channel
from guanjia.cases.models import Attachment, Case, CaseEvent, FollowUp
from guanjia.core.models import ApiToken
from guanjia.estate.models import Building, ContactLog, ImportJob, Occupancy, Party
from guanjia.notifications.models import Notification
from guanjia.org.choices import DepartmentKind, Role, ScopeLevel
from guanjia.org.models import Department
from guanjia.portal.models import Notice, PortalAccount, UnitBinding
from guanjia.portal.services import do_publish_notice
from guanjia.reports.models import Report
from guanjia.telephony.models import Call, HotlineLine
from guanjia.telephony.services import do_record_call_event
from guanjia.testing import PASSWORD, make_staff
from guanjia.wechat.models import DraftCase, WeChatFollower

PROBLEM = "application/problem+json"
SCRIPT = '<script>alert("gj")</script>'
IMG = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example/","点这里")'


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.login(username=user.username, password=PASSWORD)
    return client


def token_for(user) -> dict:
    _, raw = ApiToken.issue(user, "attack")
    return bearer(raw)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def scene(world):
    """The world's Beijing company with one of everything, and a manager of the Chengdu company to attack it."""
    w = world
    w.intruder = make_staff("cd_manager", Role.MANAGER, ScopeLevel.COMPANY, company=w.other_company)
    dept = Department.objects.create(company=w.company, kind=DepartmentKind.ENGINEERING, name="工程部二")
    w.case = case_services.do_record_case(
        w.specialist,
        project=w.project,
        case_type=CaseType.REPAIR,
        channel=Channel.HOTLINE,
        description="北京的秘密：卫生间漏水",
        units=[w.unit_a],
        party=w.owner_a,
    )
    (w.task,) = case_services.do_split_case(
        w.specialist, w.case, expected_version=w.case.version, parts=[{"title": "查漏", "department": dept}]
    )
    w.case.refresh_from_db()
    w.attachment = case_services.do_add_attachment(
        w.specialist, w.case, file=ContentFile(b"\xff\xd8\xff\xe0 secret", name="leak.jpg")
    )
    closed = case_services.do_record_case(
        w.specialist,
        project=w.project,
        case_type=CaseType.REPAIR,
        channel=Channel.HOTLINE,
        description="已修好",
        party=w.owner_a,
    )
    case_services.do_close_case(w.specialist, closed, expected_version=closed.version)
    w.follow_up = FollowUp.objects.get(case=closed)
    w.occupancy = Occupancy.objects.get(party=w.owner_a)
    w.notification = Notification.objects.create(
        recipient=w.specialist, kind="assigned", title="北京的秘密", dedupe_key="attack:1", case=w.case
    )
    w.import_job = ImportJob.objects.create(
        file=ContentFile(b"PK", name="ledger.xlsx"),
        original_name="ledger.xlsx",
        project=w.project,
        created_by=w.manager,
    )
    w.report = Report.objects.create(
        kind="monthly",
        scope_level="project",
        scope_id=w.project.pk,
        scope_name=w.project.name,
        period_start=date(2025, 10, 1),
        period_end=date(2025, 11, 1),
        generated_at=timezone.now(),
    )
    follower = WeChatFollower.objects.create(openid="o-attack-1", party=w.owner_a)
    w.draft = DraftCase.objects.create(follower=follower, project=w.project, text="北京的秘密：漏水")
    account = PortalAccount.objects.create(phone="13900000001")
    w.binding = UnitBinding.objects.create(
        account=account, unit=w.unit_a, status="pending", method="approval", claimed_name="赵六", relation="owner"
    )
    w.notice = do_publish_notice(w.manager, project=w.project, kind="announcement", title="停水通知", body="北京的秘密")
    HotlineLine.objects.create(number="01062345678", name="绿色家园服务中心", company=w.company, project=w.project)
    do_record_call_event(w.manager, call_id="c-attack", event="ringing", caller="13812345678", callee="01062345678")
    w.call = Call.objects.get(provider_call_id="c-attack")
    Call.objects.filter(pk=w.call.pk).update(agent=w.specialist)
    return w


def fingerprint(w) -> tuple:
    """What an attack must not change."""
    return (
        CaseEvent.objects.count(),
        Case.objects.filter(pk=w.case.pk).values_list("version", "status").get(),
        Attachment.objects.count(),
        ContactLog.objects.count(),
        Occupancy.objects.filter(end__isnull=False).count(),
        Notification.objects.filter(read_at__isnull=False).count(),
        FollowUp.objects.filter(done_at__isnull=False).count(),
        DraftCase.objects.filter(status="open").count(),
        UnitBinding.objects.filter(status="pending").count(),
        Notice.objects.filter(withdrawn_at__isnull=True).count(),
        Call.objects.filter(pop_closed=True).count(),
        Report.objects.filter(commentary="").count(),
        Building.objects.count(),
        Party.objects.count(),
    )


# --- ids of another company ---------------------------------------------------------------------------

CONSOLE_GETS = [
    "/org/projects/{w.project.pk}/",
    "/ledger/buildings/{w.b1.pk}/",
    "/ledger/units/{w.unit_a.pk}/",
    "/ledger/units/{w.unit_a.pk}/edit/",
    "/ledger/parties/{w.owner_a.pk}/",
    "/ledger/parties/{w.owner_a.pk}/edit/",
    "/ledger/parties/{w.owner_a.pk}/occupancies/add/",
    "/ledger/import/{w.import_job.pk}/",
    "/ledger/import/{w.import_job.pk}/problems/",
    "/cases/{w.case.pk}/",
    "/cases/{w.case.pk}/attachments/{w.attachment.pk}/",
    "/cases/follow-ups/{w.follow_up.pk}/",
    "/reports/periodic/{w.report.pk}/",
    "/reports/periodic/{w.report.pk}/report.xlsx",
    "/reports/periodic/{w.report.pk}/report.pdf",
    "/wechat/drafts/{w.draft.pk}/",
    "/portal/notices/{w.notice.pk}/",
]

CONSOLE_POSTS = [
    ("/ledger/units/{w.unit_a.pk}/edit/", {"number": "666", "floor": 6}),
    ("/ledger/parties/{w.owner_a.pk}/edit/", {"name": "改名", "kind": "person", "project": "{w.other_project.pk}"}),
    ("/ledger/parties/{w.owner_a.pk}/contacts/add/", {"channel": "phone", "summary": "入侵"}),
    (
        "/ledger/parties/{w.owner_a.pk}/occupancies/add/",
        {"unit": "{w.unit_a.pk}", "role": "owner", "start": "2025-01-01"},
    ),
    ("/ledger/occupancies/{w.occupancy.pk}/end/", {"end": "2025-01-01"}),
    ("/cases/{w.case.pk}/do/note/", {"note": "入侵", "version": "{w.case.version}"}),
    ("/cases/{w.case.pk}/do/close/", {"version": "{w.case.version}", "reason": "入侵"}),
    ("/cases/tasks/{w.task.pk}/do/cancel/", {"version": "{w.task.version}", "reason": "入侵"}),
    ("/cases/follow-ups/{w.follow_up.pk}/", {"outcome": "satisfied", "version": "2"}),
    ("/notifications/{w.notification.pk}/read/", {}),
    ("/reports/periodic/{w.report.pk}/", {"commentary": "入侵"}),
    ("/telephony/screen-pop/{w.call.pk}/close/", {}),
    ("/wechat/drafts/{w.draft.pk}/dismiss/", {"note": "入侵"}),
    ("/portal/bindings/{w.binding.pk}/decide/", {"decision": "reject", "reason": "入侵"}),
    ("/portal/notices/{w.notice.pk}/withdraw/", {}),
]


def _fill(template, w):
    if isinstance(template, dict):
        return {key: _fill(value, w) for key, value in template.items()}
    return template.format(w=w) if isinstance(template, str) else template


@pytest.mark.parametrize("url", CONSOLE_GETS)
def test_console_pages_of_another_company_are_not_found(scene, url):
    client = signed_in(scene.intruder)
    response = client.get(_fill(url, scene))
    assert response.status_code == 404
    assert "北京的秘密".encode() not in response.content
    assert b"secret" not in response.content


@pytest.mark.parametrize(("url", "data"), CONSOLE_POSTS)
def test_console_actions_on_another_companys_rows_change_nothing(scene, url, data):
    before = fingerprint(scene)
    response = signed_in(scene.intruder).post(_fill(url, scene), _fill(data, scene))
    # The other company's rows are unknown (404); closing another agent's screen-pop is refused (403).
    assert response.status_code in (403, 404), response.content[:500]
    assert fingerprint(scene) == before


def test_another_colleagues_notification_is_not_theirs_to_read(scene):
    colleague = make_staff("colleague", Role.SPECIALIST, ScopeLevel.PROJECT, project=scene.project)
    before = fingerprint(scene)
    response = signed_in(colleague).post(f"/notifications/{scene.notification.pk}/read/")
    assert response.status_code == 404
    assert fingerprint(scene) == before


def test_an_attachment_id_of_another_request_is_not_found_under_ones_own(scene):
    own = case_services.do_record_case(
        scene.intruder,
        project=scene.other_project,
        case_type=CaseType.INQUIRY,
        channel=Channel.HOTLINE,
        description="成都的诉求",
        party=scene.other_owner,
    )
    response = signed_in(scene.intruder).get(f"/cases/{own.pk}/attachments/{scene.attachment.pk}/")
    assert response.status_code == 404


API_READS = [
    "/projects/{w.project.pk}",
    "/buildings/{w.b1.pk}",
    "/units/{w.unit_a.pk}",
    "/units/{w.unit_a.pk}/occupancies",
    "/parties/{w.owner_a.pk}",
    "/parties/{w.owner_a.pk}/occupancies",
    "/cases/{w.case.pk}",
    "/cases/{w.case.pk}/events",
    "/cases/{w.case.pk}/tasks",
    "/tasks/{w.task.pk}",
    "/calls/{w.call.pk}",
]

API_WRITES = [
    ("patch", "/projects/{w.project.pk}", {"address": "入侵"}),
    ("patch", "/buildings/{w.b1.pk}", {"floors": 3}),
    ("patch", "/units/{w.unit_a.pk}", {"note": "入侵"}),
    ("patch", "/parties/{w.owner_a.pk}", {"note": "入侵"}),
    (
        "post",
        "/parties/{w.owner_a.pk}/occupancies",
        {"unit": "{w.other_unit.pk}", "role": "owner", "start": "2025-01-01"},
    ),
    ("post", "/cases/{w.case.pk}/transitions", {"action": "note", "note": "入侵"}),
    ("post", "/cases/{w.case.pk}/tasks", {"version": "{w.case.version}", "tasks": [{"title": "入侵"}]}),
    ("post", "/tasks/{w.task.pk}/transitions", {"action": "cancel", "version": "{w.task.version}", "reason": "入侵"}),
    ("post", "/follow-ups/{w.follow_up.pk}/outcome", {"outcome": "satisfied", "version": 2}),
]


@pytest.mark.parametrize("path", API_READS)
def test_api_objects_of_another_company_are_404_problems(client, scene, path):
    response = client.get("/api/v1" + _fill(path, scene), **token_for(scene.intruder))
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert "北京的秘密".encode() not in response.content


@pytest.mark.parametrize(("method", "path", "body"), API_WRITES)
def test_api_writes_to_another_companys_rows_are_404_and_change_nothing(client, scene, method, path, body):
    before = fingerprint(scene)
    data = json.loads(json.dumps(_fill(body, scene)), object_hook=lambda d: {k: _number(v) for k, v in d.items()})
    response = getattr(client, method)(
        "/api/v1" + _fill(path, scene), json.dumps(data), content_type="application/json", **token_for(scene.intruder)
    )
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == PROBLEM
    assert fingerprint(scene) == before


def _number(value):
    return int(value) if isinstance(value, str) and value.isdigit() else value


def test_api_lists_hold_nothing_of_another_company(client, scene):
    auth = token_for(scene.intruder)
    theirs = {scene.project.pk, scene.sister_project.pk}
    for path in ("/cases", "/follow-ups", "/calls", "/units", "/parties", "/buildings", "/projects"):
        response = client.get(f"/api/v1{path}", **auth)
        assert response.status_code == 200, path
        projects = {
            item.get("project_id", item.get("case.project_id", item["id"])) for item in response.json()["items"]
        }
        assert not projects & theirs, path
        assert "北京的秘密".encode() not in response.content


# --- forged and stale credentials -------------------------------------------------------------


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda w: "gj_" + "A" * 40, id="forged"),
        pytest.param(lambda w: "", id="empty"),
        pytest.param(lambda w: "gj_" + "\u202e" * 10, id="unicode"),
        pytest.param(lambda w: _expired(w), id="expired"),
        pytest.param(lambda w: _revoked(w), id="revoked"),
        pytest.param(lambda w: _of_inactive(w), id="inactive-user"),
    ],
)
def test_unusable_tokens_get_401_and_write_nothing(client, scene, make_token):
    raw = make_token(scene)
    before = fingerprint(scene)
    for method, path, body in (("get", f"/cases/{scene.case.pk}", None), ("post", "/buildings", {"project": 1})):
        response = getattr(client, method)(
            f"/api/v1{path}",
            json.dumps(body) if body else None,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        assert response.status_code == 401, (path, response.content)
        assert response["Content-Type"] == PROBLEM
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert fingerprint(scene) == before


def _expired(w) -> str:
    token, raw = ApiToken.issue(w.admin, "old")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return raw


def _revoked(w) -> str:
    token, raw = ApiToken.issue(w.admin, "revoked")
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    return raw


def _of_inactive(w) -> str:
    _, raw = ApiToken.issue(w.manager, "gone")
    w.manager.is_active = False
    w.manager.save()
    return raw


def test_a_token_in_the_query_string_is_not_accepted(client, scene):
    _, raw = ApiToken.issue(scene.admin, "leaky")
    assert client.get(f"/api/v1/cases?token={raw}&access_token={raw}").status_code == 401


@pytest.mark.parametrize(
    "make_cookie",
    [
        pytest.param(lambda w: "x" * 32, id="forged"),
        pytest.param(lambda w: _logged_out_session(w), id="logged-out"),
        pytest.param(lambda w: _expired_session(w), id="expired"),
        pytest.param(lambda w: _session_of_inactive(w), id="inactive-user"),
    ],
)
def test_stale_or_forged_session_cookies_open_nothing(scene, make_cookie):
    client = Client()
    client.cookies["sessionid"] = make_cookie(scene)
    page = client.get(f"/cases/{scene.case.pk}/")
    assert page.status_code == 302
    assert page["Location"].startswith("/login/")
    api = client.get(f"/api/v1/cases/{scene.case.pk}")
    assert api.status_code == 401
    assert api["Content-Type"] == PROBLEM


def _logged_out_session(w) -> str:
    client = signed_in(w.specialist)
    key = client.cookies["sessionid"].value
    client.post("/logout/")
    return key


def _expired_session(w) -> str:
    key = signed_in(w.specialist).cookies["sessionid"].value
    session = SessionStore(session_key=key)
    session.set_expiry(-1)
    session.save()
    return key


def _session_of_inactive(w) -> str:
    key = signed_in(w.specialist).cookies["sessionid"].value
    w.specialist.is_active = False
    w.specialist.save()
    return key


def test_a_staff_session_does_not_open_the_owner_portal(scene):
    client = signed_in(scene.admin)
    response = client.get("/m/requests/")
    assert response.status_code == 302
    assert response["Location"].startswith("/m/sign-in/")


# --- CSRF ---------------------------------------------------------------------------------------


def test_console_post_with_a_forged_csrf_token_is_refused_and_changes_nothing(scene):
    client = signed_in(scene.specialist, enforce_csrf_checks=True)
    assert client.get(f"/cases/{scene.case.pk}/").status_code == 200  # the browser holds the real cookie
    url = f"/cases/{scene.case.pk}/do/note/"
    note = {"note": "伪造", "version": scene.case.version}
    before = fingerprint(scene)
    # Another site can make the browser post, but cannot read the cookie to copy the token.
    assert client.post(url, {**note, "csrfmiddlewaretoken": "f" * 32}).status_code == 403
    assert client.post(url, note, HTTP_X_CSRFTOKEN="g" * 64).status_code == 403
    assert client.post(url, note).status_code == 403
    del client.cookies["csrftoken"]
    assert client.post(url, {**note, "csrfmiddlewaretoken": "f" * 32}).status_code == 403
    assert fingerprint(scene) == before


def test_api_write_through_the_session_with_a_forged_csrf_token_is_refused(scene):
    client = signed_in(scene.specialist, enforce_csrf_checks=True)
    assert client.get(f"/cases/{scene.case.pk}/").status_code == 200
    before = fingerprint(scene)
    response = client.post(
        f"/api/v1/cases/{scene.case.pk}/transitions",
        json.dumps({"action": "note", "note": "伪造"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN="g" * 32,
    )
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "urn:guanjia:problem:csrf-failed"
    assert fingerprint(scene) == before


def test_sign_in_form_with_a_forged_csrf_token_is_refused(scene):
    client = Client(enforce_csrf_checks=True)
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "admin", "password": PASSWORD, "csrfmiddlewaretoken": "g" * 32})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# --- oversized bodies -----------------------------------------------------------------------------


def test_api_body_over_the_limit_is_a_413_problem_and_stores_nothing(client, scene, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    before = Building.objects.count()
    body = json.dumps({"project": scene.project.pk, "name": "9栋", "number": 9, "pad": "x" * 4096})
    response = client.post("/api/v1/buildings", body, content_type="application/json", **token_for(scene.admin))
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert "2.0" in response.json()["detail"]
    assert Building.objects.count() == before


def test_api_body_of_undeclared_length_over_the_limit_is_a_413_problem(client, scene, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    before = Building.objects.count()
    body = json.dumps({"project": scene.project.pk, "name": "9栋", "pad": "x" * 4096}).encode()
    response = client.generic(
        "POST",
        "/api/v1/buildings",
        body,
        content_type="application/json",
        CONTENT_LENGTH="",
        **token_for(scene.admin),
    )
    # A WSGI application reads as far as the length declared (nothing): the body is missing, which
    # the 422 says of the body as a whole (no field), and nothing is stored.
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == [None]
    assert Building.objects.count() == before


def test_console_form_over_the_limit_is_refused_with_a_readable_4xx(scene, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    client = signed_in(scene.specialist)
    before = fingerprint(scene)
    # A form posted url-encoded is refused before it is read...
    response = client.post(
        f"/cases/{scene.case.pk}/do/note/",
        f"note={'x' * 4096}&version={scene.case.version}",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 413
    assert b"The request is too large: at most 2.0\xc2\xa0KB can be sent at once." in response.content
    # ...and multipart fields over the limit (files aside) are a 400 with a page that says why.
    response = client.post(f"/cases/{scene.case.pk}/do/note/", {"note": "x" * 4096, "version": scene.case.version})
    assert response.status_code == 400
    assert b"<p>" in response.content
    assert fingerprint(scene) == before


def test_too_many_form_fields_are_a_400(scene, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    client = signed_in(scene.specialist)
    before = fingerprint(scene)
    data = {f"f{i}": "1" for i in range(100)} | {"note": "x", "version": scene.case.version}
    assert client.post(f"/cases/{scene.case.pk}/do/note/", data).status_code == 400
    assert fingerprint(scene) == before


def test_an_upload_over_the_request_limit_is_refused_before_it_is_read(scene, settings, _media):
    settings.GUANJIA_MAX_REQUEST_BYTES = 64 * 1024
    client = signed_in(scene.manager)
    workbook = io.BytesIO(b"PK" + b"\0" * (128 * 1024))
    workbook.name = "ledger.xlsx"
    response = client.post("/ledger/import/", {"project": scene.project.pk, "file": workbook})
    assert response.status_code == 413
    assert ImportJob.objects.count() == 1  # the scene's own
    assert not list(Path(_media).glob("imports/**/ledger_*.xlsx"))


def test_a_workbook_over_the_import_limit_is_refused_on_its_field(scene, monkeypatch):
    monkeypatch.setattr("guanjia.estate.views_import.MAX_UPLOAD_BYTES", 1024)
    client = signed_in(scene.manager)
    workbook = io.BytesIO(b"PK" + b"\0" * 4096)
    workbook.name = "big.xlsx"
    response = client.post(
        "/ledger/import/", {"project": scene.project.pk, "file": workbook}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert b"larger than 20 MB" in response.content
    assert ImportJob.objects.count() == 1


# --- markup and formulas in text ----------------------------------------------------------------


@pytest.fixture
def tainted(scene):
    """A request, a note and a party whose text is markup and a formula."""
    w = scene
    w.party = Party.objects.get(pk=w.owner_a.pk)
    Party.objects.filter(pk=w.party.pk).update(name=f"{SCRIPT}张伟")
    w.bad_case = case_services.do_record_case(
        w.specialist,
        project=w.project,
        case_type=CaseType.COMPLAINT,
        channel=Channel.HOTLINE,
        description=f"{FORMULA}{SCRIPT}",
        units=[w.unit_a],
        party=w.owner_a,
        caller_name=IMG,
    )
    case_services.do_add_note(w.specialist, w.bad_case, note=f"{IMG}跟进")
    return w


def _no_live_markup(content: bytes) -> None:
    assert SCRIPT.encode() not in content
    assert IMG.encode() not in content


def test_markup_in_text_is_escaped_on_every_console_page(tainted):
    client = signed_in(tainted.specialist)
    for url in (
        f"/cases/{tainted.bad_case.pk}/",
        "/cases/?view=all",
        f"/ledger/parties/{tainted.owner_a.pk}/",
        "/ledger/parties/",
        f"/ledger/units/{tainted.unit_a.pk}/",
        f"/cases/lookup/?q={tainted.owner_a.phone}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _no_live_markup(response.content)
    page = client.get(f"/cases/{tainted.bad_case.pk}/").content.decode()
    assert "&lt;script&gt;alert(&quot;gj&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;跟进" in page


def test_markup_and_formulas_stay_plain_text_in_the_xlsx_exports(tainted):
    client = signed_in(tainted.manager)
    Party.objects.filter(pk=tainted.owner_b.pk).update(name=FORMULA)
    for url, expected in (
        ("/reports/cases.xlsx?view=all", f"{FORMULA}{SCRIPT}"),
        ("/api/v1/reports/cases.xlsx", f"{FORMULA}{SCRIPT}"),
        ("/ledger/parties/export/", FORMULA),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
        texts = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
        assert expected in [cell.value for cell in texts], url
        assert all(cell.data_type == "s" for cell in texts), [c.value for c in texts if c.data_type != "s"]


def test_markup_comes_back_verbatim_as_json_data_in_the_api(client, tainted):
    response = client.get(f"/api/v1/cases/{tainted.bad_case.pk}", **token_for(tainted.specialist))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.json()["description"] == f"{FORMULA}{SCRIPT}"
    party = client.get(f"/api/v1/parties/{tainted.owner_a.pk}", **token_for(tainted.specialist)).json()
    assert party["name"] == f"{SCRIPT}张伟"


# --- file names -------------------------------------------------------------------------------


TRICKY_NAMES = [
    ("../../etc/passwd", "passwd"),
    ("/etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("a\x00b.jpg", "ab.jpg"),
    ("photo.jpg.html", "photo.jpg.html"),
    (".htaccess", "htaccess"),
    ("..", "attachment"),
    ("x" * 300 + ".jpg", "x" * 76 + ".jpg"),
]


@pytest.mark.parametrize(("given", "kept"), TRICKY_NAMES)
def test_attachment_names_are_stored_inside_the_media_folder_under_a_plain_name(scene, _media, given, kept):
    attachment = case_services.do_add_attachment(
        scene.specialist, scene.case, file=ContentFile(b"<html><script>alert(1)</script></html>", name=given)
    )
    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to(Path(_media).resolve() / "cases")
    assert stored.name.startswith(Path(kept).stem[:20])
    assert "\x00" not in attachment.name and "/" not in attachment.name and "\\" not in attachment.name
    assert attachment.name == kept
    assert len(attachment.file.name) <= Attachment._meta.get_field("file").max_length


@pytest.mark.parametrize("name", ["photo.jpg.html", "page.html", "drawing.svg", "../../x.htm", "noext"])
def test_attachments_are_never_served_as_something_a_browser_runs(scene, name):
    attachment = case_services.do_add_attachment(
        scene.specialist, scene.case, file=ContentFile(b"<html><script>alert(1)</script></html>", name=name)
    )
    response = signed_in(scene.specialist).get(f"/cases/{scene.case.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_picture_attachment_is_shown_inline_as_a_picture(scene):
    response = signed_in(scene.specialist).get(f"/cases/{scene.case.pk}/attachments/{scene.attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff\xe0 secret"


def _multipart(fields: dict, file_field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body with the file name exactly as given (Django's test client would strip it)."""
    boundary = "GuanjiaBoundary7MA4YWxk"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="'.encode()
        + filename.encode()
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("filename", "accepted"),
    [
        ("../../../etc/evil.xlsx", True),
        ("/var/evil.xlsx", True),
        ("C:\\\\Users\\\\evil.xlsx", True),
        ("ev\x00il.xlsx", True),
        ("x" * 400 + ".xlsx", True),
        ("book.xlsx.html", False),
        ("book.html", False),
    ],
)
def test_ledger_upload_names_cannot_leave_the_media_folder(scene, _media, filename, accepted):
    client = signed_in(scene.manager)
    body, content_type = _multipart({"project": scene.project.pk}, "file", filename, b"PK\x03\x04 not really")
    response = client.generic("POST", "/ledger/import/", body, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en")
    jobs = ImportJob.objects.exclude(pk=scene.import_job.pk)
    if not accepted:
        assert response.status_code == 200
        assert b"Upload an Excel workbook" in response.content
        assert not jobs.exists()
        return
    assert response.status_code == 302, response.content[:1000]
    job = jobs.get()
    stored = Path(job.file.path).resolve()
    assert stored.is_relative_to(Path(_media).resolve() / "imports")
    assert "/" not in job.original_name and "\\" not in job.original_name and "\x00" not in job.original_name
    assert len(job.file.name) <= ImportJob._meta.get_field("file").max_length
