"""The hotline: the lines the call system answers, its agents, and every call with its events.

Only `services.py` writes calls. A call is created by the first event the call system posts about
it and changed by the following ones; each (call, event kind) is stored once (`CallEvent`), so a
webhook the call system sends again changes nothing.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import TimeStampedModel
from guanjia.org.models import Company, Project

from .choices import CallEventKind, CallState


class HotlineLine(TimeStampedModel):
    """A number the call system answers: a company's 400 number or a project's service-centre line.

    Calls on a project's line belong to that project. Calls on a company's line belong to the
    project of the caller when the caller is a known customer of exactly one of its projects, else
    to the company alone (then only company-wide staff and the agent who took it see them).
    """

    number = models.CharField(
        _("line number"), max_length=32, unique=True, help_text=_("Digits only, as the call system sends it.")
    )
    name = models.CharField(_("name"), max_length=50)
    company = models.ForeignKey(
        Company, verbose_name=_("city company"), on_delete=models.PROTECT, related_name="hotline_lines"
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotline_lines",
        help_text=_("Empty: the line serves every project of the company."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("hotline line")
        verbose_name_plural = _("hotline lines")
        ordering = ["company__name", "number"]

    def __str__(self) -> str:
        return f"{self.name} {self.number}"


class HotlineAgent(models.Model):
    """The call system's id of an agent (extension or agent number, 分机号/工号) and the staff member behind it."""

    extension = models.CharField(_("extension"), max_length=32, unique=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="hotline_agents",
    )

    class Meta:
        verbose_name = _("hotline agent")
        verbose_name_plural = _("hotline agents")
        ordering = ["extension"]

    def __str__(self) -> str:
        return f"{self.extension} {self.staff}"


class Call(models.Model):
    """One phone call to a hotline line, from the first ringing to the recording.

    `caller` is the normalised mainland number (13812345678, 010-12345678), empty when the number
    was withheld or is not a mainland number (`caller_raw` keeps what the call system sent).
    `party` is the customer with that number when exactly one matches in the call's project.
    `pop_until` is how long the agent's console shows the screen-pop: while the call rings or is
    answered (bounded), a few minutes after it ends, never once the agent closed it.
    """

    provider_call_id = models.CharField(_("call id"), max_length=64, unique=True)
    line = models.ForeignKey(
        HotlineLine, verbose_name=_("line"), null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("city company"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    project = models.ForeignKey(
        Project, verbose_name=_("project"), null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    caller = models.CharField(_("caller"), max_length=20, blank=True)
    caller_raw = models.CharField(_("caller as sent"), max_length=40, blank=True)
    callee = models.CharField(_("number called"), max_length=32, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    agent_extension = models.CharField(_("extension"), max_length=32, blank=True)
    party = models.ForeignKey(
        "estate.Party", verbose_name=_("customer"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    pop_until = models.DateTimeField(null=True, blank=True, editable=False)
    pop_closed = models.BooleanField(default=False, editable=False)
    cases = models.ManyToManyField(
        "cases.Case", verbose_name=_("service requests"), through="CallCase", blank=True, related_name="calls"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-id"]
        indexes = [
            # The screen-pop poll, every few seconds from every agent's console: one range scan.
            models.Index(fields=["agent", "pop_until"], name="call_screen_pop"),
            models.Index(fields=["project", "-started_at"], name="call_project_recent"),
            models.Index(fields=["company", "-started_at"], name="call_company_recent"),
            models.Index(fields=["-started_at"], name="call_recent"),
        ]

    def __str__(self) -> str:
        return self.provider_call_id

    @property
    def is_live(self) -> bool:
        return self.state in (CallState.RINGING, CallState.ANSWERED)


class CallEvent(models.Model):
    """One event the call system posted about a call, stored once per kind (a retried webhook is a no-op)."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=10, choices=CallEventKind.choices)
    at = models.DateTimeField(_("time"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    payload = models.JSONField(_("payload"), default=dict)

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "kind"], name="callevent_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.call_id} {self.kind}"


class CallCase(models.Model):
    """A service request recorded during (or about) a call."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="case_links")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="call_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("call's service request")
        verbose_name_plural = _("calls' service requests")
        constraints = [models.UniqueConstraint(fields=["call", "case"], name="callcase_unique")]

    def __str__(self) -> str:
        return f"{self.call_id} → {self.case_id}"
