"""Drafts from followers' messages: who sees them, recording a request from one, dismissing, binding."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from guanjia.cases.choices import Channel, EventKind
from guanjia.cases.models import Case, CaseEvent
from guanjia.core.models import ObjectChange
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import PASSWORD, make_staff
from guanjia.wechat import services
from guanjia.wechat.models import DraftCase, DraftStatus, TemplateMessage, WeChatFollower
from guanjia.wechat.queries import drafts_for

from .conftest import OPENID, image_xml, text_xml


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def draft(wechat):
    wechat(text_xml())
    wechat(image_xml())
    return DraftCase.objects.get()


def _form(world, **extra):
    data = {
        "project": world.project.pk,
        "party": world.owner_b.pk,
        "units": [world.unit_b.pk],
        "case_type": "repair",
        "severity": "normal",
        "description": "卫生间漏水，楼下都渗了",
        "idempotency_key": "wx-1",
    }
    data.update(extra)
    return data


def test_an_unknown_followers_draft_is_for_company_wide_staff_only(world, draft):
    assert list(drafts_for(world.manager)) == [draft]
    assert list(drafts_for(world.admin)) == [draft]
    assert not drafts_for(world.specialist).exists()
    assert not drafts_for(world.outsider).exists()
    assert not drafts_for(world.butler).exists()


def test_a_bound_followers_draft_belongs_to_the_customers_project(world, wechat):
    WeChatFollower.objects.create(openid=OPENID, party=world.owner_b)
    wechat(text_xml())
    draft = DraftCase.objects.get()
    assert draft.project == world.project
    assert list(drafts_for(world.specialist)) == [draft]
    assert not drafts_for(world.outsider).exists()
    other_manager = make_staff("m2", Role.MANAGER, ScopeLevel.COMPANY, company=world.other_company)
    assert not drafts_for(other_manager).exists()


def test_outside_the_scope_the_draft_page_is_404(world, draft, client):
    login(client, world.specialist)
    assert client.get(reverse("wechat:draft_detail", args=[draft.pk])).status_code == 404
    assert client.post(reverse("wechat:draft_detail", args=[draft.pk]), _form(world)).status_code == 404
    assert not Case.objects.exists()


def test_roles_without_the_permission_are_refused(world, client):
    handler = make_staff("handler", Role.HANDLER, ScopeLevel.COMPANY, company=world.company)
    login(client, handler)
    assert client.get(reverse("wechat:draft_list")).status_code == 403


def test_recording_a_request_from_a_draft(world, draft, client):
    login(client, world.manager)
    page = client.get(reverse("wechat:draft_detail", args=[draft.pk]))
    assert page.status_code == 200
    assert "卫生间漏水" in page.content.decode()
    assert page.context["form"].initial["description"] == "卫生间漏水，楼下都渗了"
    response = client.post(reverse("wechat:draft_detail", args=[draft.pk]), _form(world, bind="on"))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:case_detail", args=[case.pk])
    assert case.channel == Channel.WECHAT
    assert case.party == world.owner_b
    assert case.received_at == draft.first_at
    assert case.owner == world.manager
    draft.refresh_from_db()
    assert draft.status == DraftStatus.CONVERTED and draft.case == case and draft.project == world.project
    follower = WeChatFollower.objects.get()
    assert follower.party == world.owner_b and follower.bound_by == world.manager
    assert ObjectChange.objects.filter(object_id=follower.pk, source="wechat").exists()
    note = CaseEvent.objects.get(case=case, kind=EventKind.NOTE)
    assert "mmbiz.qpic.cn" in note.note
    # Posted again (a double click): nothing more.
    client.post(reverse("wechat:draft_detail", args=[draft.pk]), _form(world, bind="on"))
    assert Case.objects.count() == 1


def test_without_binding_the_follower_stays_unbound_but_hears_about_this_request(
    world, draft, client, django_capture_on_commit_callbacks
):
    login(client, world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("wechat:draft_detail", args=[draft.pk]), _form(world))
    assert WeChatFollower.objects.get().party is None
    case = Case.objects.get()
    message = TemplateMessage.objects.get()
    assert message.kind == "case_recorded" and message.case == case
    assert message.params["number"] == case.number
    assert message.delivered_at is not None and message.provider_msg_id.startswith("log-")


def test_bad_input_names_the_field_and_leaves_the_draft_open(world, draft, client):
    login(client, world.manager)
    response = client.post(reverse("wechat:draft_detail", args=[draft.pk]), _form(world, description="  "))
    assert response.status_code == 200
    assert "description" in response.context["form"].errors
    assert not Case.objects.exists()
    draft.refresh_from_db()
    assert draft.status == DraftStatus.OPEN


def test_dismissing_needs_a_reason(world, draft, client):
    login(client, world.manager)
    client.post(reverse("wechat:draft_dismiss", args=[draft.pk]), {"note": ""})
    draft.refresh_from_db()
    assert draft.status == DraftStatus.OPEN
    response = client.post(reverse("wechat:draft_dismiss", args=[draft.pk]), {"note": "广告"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == DraftStatus.DISMISSED and draft.note == "广告"
    with pytest.raises(ValidationError):
        services.do_convert_draft(
            world.manager, draft, project=world.project, case_type="repair", description="x", caller_name="张"
        )


def test_services_refuse_a_draft_outside_the_scope(world, draft):
    with pytest.raises(PermissionDenied):
        services.do_dismiss_draft(world.outsider, draft, note="x")


def test_binding_needs_a_customer_the_actor_sees(world, draft):
    with pytest.raises(ValidationError):
        services.do_bind_follower(world.specialist, draft.follower, world.other_owner)


def test_the_draft_list_shows_open_drafts_and_the_handled_ones_on_their_tab(world, draft, client):
    login(client, world.manager)
    html = client.get(reverse("wechat:draft_list")).content.decode()
    assert f'data-draft="{draft.pk}"' in html
    services.do_dismiss_draft(world.manager, draft, note="广告")
    assert f'data-draft="{draft.pk}"' not in client.get(reverse("wechat:draft_list")).content.decode()
    dismissed = client.get(reverse("wechat:draft_list"), {"status": "dismissed"}).content.decode()
    assert f'data-draft="{draft.pk}"' in dismissed
