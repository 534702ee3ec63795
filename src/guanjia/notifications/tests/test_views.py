"""The notification centre: only my notifications, unread first; marking read; the unread badge."""

import pytest
from django.urls import reverse

from guanjia.notifications.choices import NotificationKind
from guanjia.notifications.models import Notification
from guanjia.notifications.services import do_notify
from guanjia.testing import PASSWORD


@pytest.fixture
def inbox(nw):
    for n in range(3):
        do_notify([nw.specialist], NotificationKind.CASE_ASSIGNED, title=f"给专员的通知{n}", key=f"t:{n}")
    do_notify([nw.team_lead], NotificationKind.CASE_ASSIGNED, title="给班长的通知", key="t:lead")
    Notification.objects.filter(title="给专员的通知2").update(read_at="2025-11-03T09:00:00+08:00")
    return nw


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_list_shows_only_my_notifications_unread_first(client, inbox):
    response = login(client, inbox.specialist).get(reverse("notifications:notification_list"))
    assert response.status_code == 200
    titles = [n.title for n in response.context["page"]]
    assert titles == ["给专员的通知1", "给专员的通知0", "给专员的通知2"]
    assert "给班长的通知" not in response.content.decode()


def test_the_unread_filter_hides_read_notifications(client, inbox):
    response = login(client, inbox.specialist).get(reverse("notifications:notification_list") + "?unread=1")
    assert [n.title for n in response.context["page"]] == ["给专员的通知1", "给专员的通知0"]


def test_marking_read_works_and_another_persons_notification_is_404(client, inbox):
    mine = Notification.objects.get(title="给专员的通知0")
    theirs = Notification.objects.get(title="给班长的通知")
    client = login(client, inbox.specialist)
    response = client.post(reverse("notifications:notification_read", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    response = client.post(reverse("notifications:notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client, inbox):
    note = Notification.objects.get(title="给专员的通知0")
    Notification.objects.filter(pk=note.pk).update(link="/cases/12/")
    response = login(client, inbox.specialist).post(
        reverse("notifications:notification_read", args=[note.pk]), {"open": "1"}
    )
    assert response.status_code == 302 and response["Location"] == "/cases/12/"


def test_marking_read_answers_htmx_with_the_row(client, inbox):
    note = Notification.objects.get(title="给专员的通知0")
    response = login(client, inbox.specialist).post(
        reverse("notifications:notification_read", args=[note.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and f'id="notification-{note.pk}"' in response.content.decode()


def test_mark_all_read_touches_only_my_notifications(client, inbox):
    login(client, inbox.specialist).post(reverse("notifications:notification_read_all"))
    assert not Notification.objects.filter(recipient=inbox.specialist, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=inbox.team_lead).read_at is None


def test_marking_read_needs_a_post(client, inbox):
    note = Notification.objects.get(title="给专员的通知0")
    response = login(client, inbox.specialist).get(reverse("notifications:notification_read", args=[note.pk]))
    assert response.status_code == 405


def test_the_badge_counts_my_unread_notifications(client, inbox):
    response = login(client, inbox.specialist).get(reverse("notifications:badge"))
    assert response.status_code == 200 and response.context["unread_count"] == 2
    assert 'hx-trigger="every 60s"' in response.content.decode()


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get(reverse("notifications:badge"))
    assert response.status_code == 302 and "login" in response["Location"]
