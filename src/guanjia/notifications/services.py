"""Every write to notifications: create (in the console, then e-mail and SMS after commit), mark read, deliver.

In-app rows are written in the caller's transaction, so a notification exists exactly when the
change that caused it was committed. E-mail and SMS go out afterwards, from the background worker
(`tasks.deliver_notifications`): the job claims undelivered rows by setting `delivered_at` before
sending, so two workers never send the same message and a retried job sends nothing twice.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from guanjia.org.models import Staff

from .choices import SMS_KINDS
from .models import Notification
from .queries import access_notification_by_id, notifications_for
from .sms import get_gateway, template_code

logger = logging.getLogger(__name__)

DELIVERY_BATCH = 200


def case_link(case_id: int | None) -> str:
    """The console page of a case, or "" while that page does not exist."""
    if not case_id:
        return ""
    try:
        return reverse("cases:case_detail", args=[case_id])
    except NoReverseMatch:
        return ""


def case_link_maker():
    """`case_link` for many cases: the URL is resolved once and the id filled in."""
    sample = case_link(987654321)
    if not sample:
        return lambda case_id: ""
    head, tail = sample.split("987654321", 1)
    return lambda case_id: f"{head}{case_id}{tail}" if case_id else ""


def schedule_delivery() -> None:
    """Send e-mail and SMS for new notifications once the current transaction commits."""
    from . import tasks

    transaction.on_commit(tasks.deliver_notifications)


def create_notifications(rows: Sequence[Notification]) -> int:
    """Insert prepared notifications, skipping any whose (recipient, dedupe key) exists; deliver after commit.

    Returns the number of rows handed to the database (duplicates among them are skipped silently).
    """
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    schedule_delivery()
    return len(rows)


def _recipient_ids(recipients: Iterable) -> set[int]:
    ids = {getattr(r, "pk", r) for r in recipients}
    ids.discard(None)
    return set(Staff.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True)) if ids else set()


def do_notify(
    recipients: Iterable,
    kind: str,
    *,
    title: str,
    key: str,
    body: str = "",
    link: str = "",
    case=None,
    sms: bool | None = None,
    email: bool = True,
) -> list[int]:
    """Notify each distinct active recipient once per `key`; returns the ids of the people newly notified.

    `recipients` are staff or staff ids. `sms` defaults to whether the kind is urgent (`SMS_KINDS`).
    Text messages go only to staff with a phone number and e-mails only to staff with an address.
    """
    ids = _recipient_ids(recipients)
    if not ids:
        return []
    key = key[:100]
    existing = set(
        Notification.objects.filter(dedupe_key=key, recipient_id__in=ids).values_list("recipient_id", flat=True)
    )
    new = sorted(ids - existing)
    now = timezone.now()
    case_id = getattr(case, "pk", case)
    create_notifications(
        [
            Notification(
                recipient_id=pk,
                kind=kind,
                title=title[:200],
                body=body,
                link=link or case_link(case_id),
                case_id=case_id,
                dedupe_key=key,
                created_at=now,
                by_email=email,
                by_sms=kind in SMS_KINDS if sms is None else sms,
            )
            for pk in new
        ]
    )
    return new


def do_mark_notification_read(user, notification_id) -> Notification:
    """Mark one of the user's own notifications read (another person's gives 404)."""
    notification = access_notification_by_id(user, notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def do_mark_all_notifications_read(user) -> int:
    return notifications_for(user).unread().update(read_at=timezone.now())


# ------------------------------------------------------------------------------------------------ delivery


@dataclass
class DeliveryResult:
    claimed: int = 0
    emails: int = 0
    texts: int = 0
    failures: int = 0


def _claim(batch: int) -> list[int]:
    """Take up to `batch` undelivered notifications for this worker (others skip the locked rows)."""
    with transaction.atomic():
        ids = list(
            Notification.objects.filter(delivered_at__isnull=True)
            .order_by("created_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(delivered_at=timezone.now())
    return ids


def _absolute(link: str) -> str:
    base = getattr(settings, "GUANJIA_SITE_URL", "").rstrip("/")
    return f"{base}{link}" if link and base else link


def _send(ids: list[int], result: DeliveryResult) -> None:
    rows = list(Notification.objects.filter(pk__in=ids).select_related("recipient", "case").order_by("id"))
    errors: dict[int, list[str]] = {}
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    mails = [n for n in rows if n.by_email and n.recipient.email and n.recipient.is_active]
    if mails:
        with get_connection(fail_silently=False) as connection:
            for n in mails:
                text = "\n\n".join(filter(None, [n.body, _absolute(n.link)]))
                try:
                    connection.send_messages([EmailMessage(n.title, text, sender, [n.recipient.email])])
                    result.emails += 1
                except Exception as exc:
                    logger.warning("e-mail for notification %s failed: %s", n.pk, exc)
                    errors.setdefault(n.pk, []).append(f"email: {exc}")
    texts = [n for n in rows if n.by_sms and n.recipient.phone and n.recipient.is_active]
    if texts:
        gateway = get_gateway()
        for n in texts:
            params = {"title": n.title, "number": n.case.number if n.case_id else ""}
            try:
                gateway.send(n.recipient.phone, template_code(n.kind), params)
                result.texts += 1
            except Exception as exc:
                logger.warning("SMS for notification %s failed: %s", n.pk, exc)
                errors.setdefault(n.pk, []).append(f"sms: {exc}")
    for pk, messages in errors.items():
        Notification.objects.filter(pk=pk).update(delivery_error="\n".join(messages)[:1000])
    result.failures += len(errors)


def deliver_pending(batch: int = DELIVERY_BATCH) -> DeliveryResult:
    """Send e-mail and SMS for every notification not yet delivered, batch by batch."""
    result = DeliveryResult()
    while ids := _claim(batch):
        result.claimed += len(ids)
        _send(ids, result)
    return result
