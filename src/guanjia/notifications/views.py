"""The notification centre: my notifications (unread first), mark read, and the unread badge."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from guanjia.core.htmx import is_htmx

from .queries import notifications_for, unread_count
from .services import do_mark_all_notifications_read, do_mark_notification_read

PAGE_SIZE = 30


@login_required
@require_GET
def notification_list(request):
    notifications = notifications_for(request.user)
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        notifications = notifications.unread()
    notifications = notifications.annotate(
        unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    ).order_by("-unread", "-created_at", "-id")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "only_unread": only_unread, "unread_count": unread_count(request.user)}
    return render(request, "notifications/notification_list.html", context)


@login_required
@require_POST
def notification_read(request, pk):
    """Mark one notification read; `open` also goes to what it is about."""
    notification = do_mark_notification_read(request.user, pk)
    if request.POST.get("open") and notification.link:
        if url_has_allowed_host_and_scheme(notification.link, allowed_hosts={request.get_host()}):
            return redirect(notification.link)
    if is_htmx(request):
        return render(request, "notifications/_notification_row.html", {"n": notification})
    return redirect("notifications:notification_list")


@login_required
@require_POST
def notification_read_all(request):
    do_mark_all_notifications_read(request.user)
    return redirect("notifications:notification_list")


@login_required
@require_GET
def badge(request):
    """The unread count for the top bar; the fragment polls itself (include it with hx-trigger="load")."""
    return render(request, "notifications/_badge.html", {"unread_count": unread_count(request.user)})
