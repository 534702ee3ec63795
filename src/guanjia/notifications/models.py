"""Notifications to staff and the record of missed deadlines (SLA breaches) that raised them.

Only `services.py` and `sweep.py` write these rows. Both tables carry a unique key so that a job
that runs twice, late, or at the same time as another one never records or notifies anything twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import DeadlineKind, EscalationLevel, NotificationKind


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message to one staff member: shown in the notification centre, e-mailed, and texted when urgent.

    `dedupe_key` names the occasion (e.g. "sla:123" for breach 123, "event:45:assigned" for a case
    event); with the recipient it is unique, so the same notification is never created twice.
    `delivered_at` is set when the delivery job claims the row, before it sends anything: e-mail
    and SMS go out at most once, and a failure is kept in `delivery_error`.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("service request"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    dedupe_key = models.CharField(max_length=100, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    by_email = models.BooleanField(_("send by e-mail"), default=True)
    by_sms = models.BooleanField(_("send by text message"), default=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True, editable=False)
    delivery_error = models.TextField(_("delivery error"), blank=True, editable=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The notification centre and the unread badge: one person's rows, unread first.
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox"),
            # The delivery job picks up rows not yet claimed.
            models.Index(
                fields=["created_at"], condition=Q(delivered_at__isnull=True), name="notification_undelivered"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="notification_dedupe_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class SlaBreach(models.Model):
    """A missed deadline of a case, recorded once per escalation level by the SLA sweep.

    `kind` names the deadline (`Case.<kind>_due`, or the follow-up's `due`); `due` is the deadline
    that was missed. Level 1 goes to the owner and assignee when the deadline passes, level 2 to
    the project's team leads and level 3 to the company's managers when the case stays overdue
    longer (see `sweep.py`). `round` is the case's `reopened_count` when the deadline was missed:
    reopening restarts the clock, so a reopened case can be breached, and notified, again.
    `sweep` identifies the sweep that inserted the row, so that sweep notifies exactly the rows it
    inserted even while another sweep runs.
    """

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("service request"), on_delete=models.CASCADE, related_name="sla_breaches"
    )
    kind = models.CharField(_("deadline"), max_length=12, choices=DeadlineKind.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=EscalationLevel.choices)
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    due = models.DateTimeField(_("due"))
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    sweep = models.UUIDField(editable=False)

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        ordering = ["-detected_at", "-id"]
        indexes = [models.Index(fields=["sweep"], name="slabreach_sweep")]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "level", "round"], name="slabreach_once_per_level"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} L{self.level}"
