"""Fixed choices of notifications: what a notification is about, which deadline was missed, how far it escalated."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    CASE_ASSIGNED = "case_assigned", _("Request assigned")
    TASK_ASSIGNED = "task_assigned", _("Task assigned")
    CASE_REOPENED = "case_reopened", _("Request reopened")
    RISK_FLAGGED = "risk_flagged", _("Risk flagged")
    SLA_OVERDUE = "sla_overdue", _("Deadline missed")
    SLA_ESCALATED = "sla_escalated", _("Overdue request escalated")
    FOLLOW_UP_OVERDUE = "follow_up_overdue", _("Follow-up call overdue")
    CASE_ESCALATED = "case_escalated", _("Request escalated")


# Kinds urgent enough for a text message as well; every kind is shown in the console and e-mailed.
SMS_KINDS = frozenset({NotificationKind.RISK_FLAGGED, NotificationKind.SLA_ESCALATED, NotificationKind.CASE_ESCALATED})


class DeadlineKind(models.TextChoices):
    """The deadlines the sweep watches: the case's `<kind>_due` columns and the follow-up's `due`.

    Values fit `SlaBreach.kind` (12 characters).
    """

    RESPONSE = "response", _("First response")
    PLAN = "plan", _("Plan")
    RESOLUTION = "resolution", _("Resolution")
    REPLY = "reply", _("Reply to the customer")
    NOTICE = "notice", _("Written notice to the property company")
    FOLLOW_UP = "follow_up", _("Follow-up call")


class EscalationLevel(models.IntegerChoices):
    OWNER = 1, _("Owner and assignee")
    TEAM_LEAD = 2, _("Team lead")
    MANAGER = 3, _("Manager")
