"""Notices (announcements, weather warnings) from the console to the portal: targeting by project,
building and tag, read receipts and counts; and the console's developer page of demo codes."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanjia.estate.models import Tag
from guanjia.org.choices import Role, ScopeLevel
from guanjia.portal import services
from guanjia.portal.choices import NoticeKind
from guanjia.portal.models import NoticeRead
from guanjia.portal.queries import audience_of, notices_for, notices_for_account
from guanjia.testing import make_staff

from .conftest import RESIDENT_ID, bound_account, last_code, portal_login


def publish(user, project, **extra):
    data = {"kind": NoticeKind.ANNOUNCEMENT, "title": "停水通知", "body": "明天9:00-12:00停水检修"}
    data.update(extra)
    return services.do_publish_notice(user, project=project, **data)


def test_project_notice_reaches_every_bound_owner_of_the_project(pw, owner_a, owner_b):
    notice = publish(pw.specialist, pw.project)
    assert list(notices_for_account(owner_a)) == [notice]
    assert list(notices_for_account(owner_b)) == [notice]
    assert audience_of(notice).count() == 2


def test_building_and_tag_narrow_the_audience(pw, owner_a, owner_b):
    resident = bound_account(pw, pw.resident_b, pw.unit_b, RESIDENT_ID)
    elderly = Tag.objects.create(name="孤寡老人")
    pw.owner_b.tags.add(elderly)
    in_b3 = publish(pw.specialist, pw.project, buildings=[pw.b3], title="3栋电梯检修")
    tagged = publish(pw.specialist, pw.project, tags=[elderly], kind=NoticeKind.WEATHER, title="寒潮预警")
    both = publish(pw.specialist, pw.project, buildings=[pw.b1], tags=[elderly], title="1栋老人关怀")
    assert set(notices_for_account(owner_b)) == {in_b3, tagged}
    assert set(notices_for_account(resident)) == {in_b3}
    assert set(notices_for_account(owner_a)) == set()
    assert (audience_of(in_b3).count(), audience_of(tagged).count(), audience_of(both).count()) == (2, 1, 0)


def test_other_projects_withdrawn_expired_and_future_notices_are_not_shown(pw, owner_b):
    publish(pw.outsider, pw.other_project)
    withdrawn = publish(pw.specialist, pw.project, title="撤回的")
    services.do_withdraw_notice(pw.specialist, withdrawn)
    expired = publish(pw.specialist, pw.project, title="过期的", expires_at=timezone.now() + timedelta(minutes=1))
    expired.expires_at = timezone.now() - timedelta(minutes=1)
    expired.save()
    assert not notices_for_account(owner_b).exists()


def test_read_receipts_are_counted_once(pw, owner_a, owner_b):
    notice = publish(pw.specialist, pw.project)
    services.do_mark_notice_read(owner_b, notice)
    services.do_mark_notice_read(owner_b, notice)
    assert NoticeRead.objects.count() == 1
    assert notices_for(pw.specialist).get().read_count == 1
    assert [n.is_read for n in notices_for_account(owner_b)] == [True]
    assert [n.is_read for n in notices_for_account(owner_a)] == [False]


@pytest.mark.parametrize(
    "extra,field",
    [({"title": " "}, "title"), ({"body": ""}, "body"), ({"kind": "ad"}, "kind")],
)
def test_bad_notice_names_the_field(pw, extra, field):
    with pytest.raises(ValidationError) as exc:
        publish(pw.specialist, pw.project, **extra)
    assert field in exc.value.message_dict


def test_staff_publish_inside_their_scope_only(pw):
    with pytest.raises(ValidationError) as exc:
        publish(pw.outsider, pw.project)
    assert "project" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        publish(pw.specialist, pw.project, buildings=[pw.other_building])
    assert "buildings" in exc.value.message_dict
    # A butler writes for the buildings of their areas, not the whole project.
    with pytest.raises(ValidationError) as exc:
        publish(pw.butler, pw.project)
    assert "buildings" in exc.value.message_dict
    with pytest.raises(ValidationError):
        publish(pw.butler, pw.project, buildings=[pw.b1])
    assert publish(pw.butler, pw.project, buildings=[pw.b3]).pk
    handler = make_staff("handler", Role.HANDLER, ScopeLevel.PROJECT, project=pw.project, department=pw.dept)
    with pytest.raises(PermissionDenied):
        publish(handler, pw.project)


def test_butler_cannot_withdraw_a_project_wide_notice(pw):
    notice = publish(pw.specialist, pw.project)
    with pytest.raises(PermissionDenied):
        services.do_withdraw_notice(pw.butler, notice)


def test_portal_pages_show_and_mark_notices(client, pw, owner_b):
    notice = publish(pw.specialist, pw.project, kind=NoticeKind.WEATHER, title="暴雨蓝色预警", body="请关好门窗")
    portal_login(client, pw.owner_b.phone)
    home = client.get("/m/").content.decode()
    assert "暴雨蓝色预警" in home and 'class="alert warn"' in home
    page = client.get(f"/m/notices/{notice.pk}/").content.decode()
    assert "请关好门窗" in page
    assert NoticeRead.objects.filter(notice=notice, account=owner_b).exists()
    assert 'class="alert warn"' not in client.get("/m/").content.decode()


def test_another_projects_notice_is_404_in_the_portal(client, pw, owner_b):
    other = publish(pw.outsider, pw.other_project)
    portal_login(client, pw.owner_b.phone)
    assert client.get(f"/m/notices/{other.pk}/").status_code == 404
    assert not NoticeRead.objects.exists()


def test_console_pages_publish_and_count_readers(client, pw, owner_b):
    client.force_login(pw.specialist)
    assert client.get("/portal/notices/new/").status_code == 200
    response = client.post(
        "/portal/notices/new/",
        {"project": pw.project.pk, "kind": "weather", "title": "高温提示", "body": "注意防暑", "buildings": [pw.b3.pk]},
    )
    assert response.status_code == 302
    notice = notices_for(pw.specialist).get()
    services.do_mark_notice_read(owner_b, notice)
    page = client.get(response["Location"]).content.decode()
    assert 'data-read="1" data-audience="1"' in page and "李娜" in page and "3栋2单元1502" in page
    listing = client.get("/portal/notices/").content.decode()
    assert "高温提示" in listing and "1 / 1" in listing
    client.post(f"/portal/notices/{notice.pk}/withdraw/")
    notice.refresh_from_db()
    assert notice.withdrawn_at is not None


def test_console_notice_form_shows_field_errors(client, pw):
    client.force_login(pw.specialist)
    response = client.post("/portal/notices/new/", {"project": pw.project.pk, "kind": "announcement", "title": ""})
    assert response.status_code == 200 and not notices_for(pw.specialist).exists()


def test_console_notices_are_scoped(client, pw):
    notice = publish(pw.specialist, pw.project)
    client.force_login(pw.outsider)
    assert client.get(f"/portal/notices/{notice.pk}/").status_code == 404
    assert client.post(f"/portal/notices/{notice.pk}/withdraw/").status_code == 404


# --- developer outbox ----------------------------------------------------------------------------------


def test_dev_outbox_shows_demo_codes_to_admins_only(client, pw, settings):
    services.do_send_sign_in_code("13600000001", ip=None)
    code = last_code("13600000001")
    client.force_login(pw.admin)
    page = client.get("/portal/dev/sms/").content.decode()
    assert code in page and "136****0001" in page
    assert "/portal/dev/sms/" in client.get("/portal/notices/").content.decode()  # the nav link
    client.force_login(pw.specialist)
    assert client.get("/portal/dev/sms/").status_code == 404
    assert "/portal/dev/sms/" not in client.get("/portal/notices/").content.decode()


def test_dev_outbox_disappears_with_a_real_gateway(client, pw, settings):
    settings.GUANJIA_SMS_BACKEND = "guanjia.portal.tests.test_sign_in.RecordingGateway"
    settings.DEBUG = False
    client.force_login(pw.admin)
    assert client.get("/portal/dev/sms/").status_code == 404


def test_console_nav_links_for_butlers(client, pw):
    client.force_login(pw.butler)
    page = client.get("/").content.decode()
    assert "/portal/bindings/" in page and "/portal/notices/" in page
