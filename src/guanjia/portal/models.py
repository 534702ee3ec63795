"""The owner portal (业主端): owner accounts and their sessions, sign-in codes, unit bindings,
ratings of closed requests, and notices with read receipts.

Owner accounts are not staff: they are not `Staff` rows, never pass through `django.contrib.auth`
and carry their own session in their own cookie (see `sessions.py`), so an owner can never hold a
console session. Only `services.py` writes these rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.cases.models import Attachment, Case, FollowUp
from guanjia.estate.models import Building, Party, Tag, Unit
from guanjia.org.models import Project

from .choices import BindingMethod, BindingStatus, NoticeKind, Relation


class PortalAccount(models.Model):
    """An owner's (or resident's, or tenant's) account, known by a verified mainland mobile number.

    Created on the first successful sign-in. What the account may see comes from its active
    `UnitBinding`s; an account without bindings sees notices of no project and no requests.
    """

    phone = models.CharField(_("phone"), max_length=20, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_sign_in_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("owner account")
        verbose_name_plural = _("owner accounts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        from guanjia.estate.identity import mask_phone

        return mask_phone(self.phone)


class PortalSession(models.Model):
    """One signed-in device. The cookie holds a random token; only its SHA-256 digest is stored."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="sessions")
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("owner session")
        verbose_name_plural = _("owner sessions")
        indexes = [models.Index(fields=["expires_at"], name="portalsession_expires")]

    def __str__(self) -> str:
        return f"{self.account} {self.created_at:%Y-%m-%d %H:%M}"


class SignInCode(models.Model):
    """A one-time sign-in code sent by SMS: stored as a keyed digest, valid for a few minutes, used once.

    Only the newest code of a phone counts; sending a new one makes the older ones useless.
    """

    phone = models.CharField(max_length=20)
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    message_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")
        indexes = [models.Index(fields=["phone", "-created_at"], name="signincode_phone_created")]

    def __str__(self) -> str:
        return f"{self.phone[:3]}**** {self.created_at:%Y-%m-%d %H:%M}"


class RateEvent(models.Model):
    """One counted event of a rate limit: a code sent, a wrong code, a failed identity check.

    `kind` names the limit and `key` what it counts for (a phone, an address, an account, a unit);
    limits are counts of rows in a recent window (`throttle.py`). Old rows are deleted hourly.
    """

    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rate-limit event")
        verbose_name_plural = _("rate-limit events")
        indexes = [models.Index(fields=["kind", "key", "at"], name="rateevent_kind_key_at")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class DevOutboxMessage(models.Model):
    """A text message the log SMS backend "sent": kept only while no real gateway is configured (or in
    DEBUG), so that the console's developer page can show demo sign-in codes. Never written in production.
    """

    phone = models.CharField(max_length=20)
    template_code = models.CharField(max_length=50)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("developer outbox message")
        verbose_name_plural = _("developer outbox messages")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.template_code} {self.created_at:%H:%M:%S}"


class UnitBinding(models.Model):
    """An account's tie to a unit, through the ledger party the person is.

    Made at once when the name and the last six ID digits match an owner or resident with a current
    occupancy of the unit (`method` identity), or requested and then approved by staff serving the
    unit (`method` approval; `party` is chosen by the approver). An active binding counts only while
    its party still has a current occupancy of the unit (`queries.active_bindings`).
    """

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="bindings")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="portal_bindings")
    party = models.ForeignKey(
        Party, verbose_name=_("party"), null=True, blank=True, on_delete=models.CASCADE, related_name="portal_bindings"
    )
    status = models.CharField(_("status"), max_length=10, choices=BindingStatus.choices)
    method = models.CharField(_("method"), max_length=10, choices=BindingMethod.choices)
    claimed_name = models.CharField(_("name given"), max_length=50)
    relation = models.CharField(_("relation given"), max_length=10, choices=Relation.choices)
    note = models.CharField(_("applicant's note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reject_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("unit binding")
        verbose_name_plural = _("unit bindings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "unit"],
                condition=Q(status__in=["pending", "active"]),
                name="unitbinding_one_live_per_unit",
            )
        ]
        indexes = [models.Index(fields=["status", "unit"], name="unitbinding_status_unit")]

    def __str__(self) -> str:
        return f"{self.account} · {self.unit_id} · {self.status}"


class HouseholdSharing(models.Model):
    """The per-unit switch: when on, everyone bound to the unit sees the household's requests on it."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="portal_sharing")
    enabled = models.BooleanField(default=False)
    changed_by = models.ForeignKey(PortalAccount, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("household sharing")
        verbose_name_plural = _("household sharing")

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.enabled}"


class OwnerPhoto(models.Model):
    """A request attachment that came from the owner portal. Owners see only these attachments of a
    request: whatever staff attach (drawings, cost sheets, internal photos) stays in the console."""

    attachment = models.OneToOneField(Attachment, on_delete=models.CASCADE, related_name="owner_photo")
    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("owner photo")
        verbose_name_plural = _("owner photos")

    def __str__(self) -> str:
        return str(self.attachment_id)


class CaseRating(models.Model):
    """An owner's 1–5 star rating of a closed request, one per closing (`round` = times reopened then).

    `follow_up` is the follow-up the rating completed (through `do_record_follow_up`); it is empty
    when the follow-up call had been recorded first, in which case the rating is kept as it is.
    """

    case = models.ForeignKey(Case, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="ratings")
    round = models.PositiveSmallIntegerField(default=0)
    stars = models.PositiveSmallIntegerField(_("stars"))
    comment = models.TextField(_("comment"), blank=True)
    follow_up = models.ForeignKey(FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "round"], name="caserating_one_per_round"),
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="caserating_stars_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.stars}"


class Notice(models.Model):
    """An announcement or weather warning (温馨提示) for the owners of one project.

    Targeting: no buildings and no tags reach everyone bound to a unit of the project; buildings
    narrow it to units in those buildings, tags to parties with one of those tags; both narrow by both.
    """

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=NoticeKind.choices, default=NoticeKind.ANNOUNCEMENT)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("notice text"))
    buildings = models.ManyToManyField(Building, verbose_name=_("buildings"), blank=True, related_name="+")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    expires_at = models.DateTimeField(_("shown until"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["project", "-published_at"], name="notice_project_published")]

    def __str__(self) -> str:
        return self.title


class NoticeRead(models.Model):
    """A read receipt: this account opened this notice (first time only)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        ordering = ["-read_at"]
        constraints = [models.UniqueConstraint(fields=["notice", "account"], name="noticeread_once")]

    def __str__(self) -> str:
        return f"{self.notice_id} · {self.account_id}"
