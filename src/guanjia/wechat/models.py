"""The WeChat bridge: followers (and the customer each is bound to), their messages, the draft
requests those messages make, template messages to followers, and the cached API access token.

Only `services.py` writes these rows. Messages are unique by WeChat's `MsgId`, so a message WeChat
sends again (it retries when we answer slowly) is stored once; template messages are unique by
(follower, occasion), so a job that runs twice sends nothing twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import TimeStampedModel


class WeChatFollower(TimeStampedModel):
    """A follower of the Official Account (an `openid`), and the customer they are bound to when known.

    The binding is made by staff when they turn the follower's message into a request and have
    checked who the person is; it is master data, so changes are kept in the change history.
    Template messages about a customer's requests go to the followers bound to that customer.
    """

    openid = models.CharField(_("openid"), max_length=64, unique=True)
    party = models.ForeignKey(
        "estate.Party",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wechat_followers",
    )
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bound by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    bound_at = models.DateTimeField(_("bound at"), null=True, blank=True)
    subscribed = models.BooleanField(_("following"), default=True)

    class Meta:
        verbose_name = _("WeChat follower")
        verbose_name_plural = _("WeChat followers")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return mask_openid(self.openid)


def mask_openid(openid: str) -> str:
    """oAbC…wXyZ: enough to tell followers apart on a page."""
    return f"{openid[:4]}…{openid[-4:]}" if len(openid) > 8 else openid


class DraftStatus(models.TextChoices):
    OPEN = "open", _("To handle")
    CONVERTED = "converted", _("Recorded as a request")
    DISMISSED = "dismissed", _("Dismissed")


class DraftCase(models.Model):
    """What a follower reported in one go: their messages of a short while, waiting for staff.

    A specialist reads it and records a request from it (`case`), or dismisses it (not a request,
    e.g. an advertisement). `project` is the bound customer's project; a draft without one is for
    company-wide staff to sort out. `text` collects the text messages, for lists and the form.
    """

    follower = models.ForeignKey(
        WeChatFollower, verbose_name=_("follower"), on_delete=models.PROTECT, related_name="drafts"
    )
    project = models.ForeignKey(
        "org.Project", verbose_name=_("project"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=DraftStatus.choices, default=DraftStatus.OPEN)
    text = models.TextField(_("text"), blank=True)
    images = models.PositiveSmallIntegerField(_("photos"), default=0)
    first_at = models.DateTimeField(_("received at"), default=timezone.now)
    last_at = models.DateTimeField(_("last message at"), default=timezone.now)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("service request"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wechat_drafts",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("WeChat draft")
        verbose_name_plural = _("WeChat drafts")
        ordering = ["-last_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-last_at"], name="wechatdraft_queue"),
            models.Index(fields=["follower", "status"], name="wechatdraft_follower"),
        ]

    def __str__(self) -> str:
        return f"{mask_openid(self.follower.openid)} {self.first_at:%Y-%m-%d %H:%M}"


class WeChatMessage(models.Model):
    """One message a follower sent, as received. `msg_id` (WeChat's MsgId) is unique: retries are stored once.

    `reply` is what we answered, so a retried message gets the same answer again.
    """

    msg_id = models.BigIntegerField(_("message id"), unique=True)
    follower = models.ForeignKey(
        WeChatFollower, verbose_name=_("follower"), on_delete=models.PROTECT, related_name="messages"
    )
    draft = models.ForeignKey(
        DraftCase, verbose_name=_("draft"), null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    account = models.CharField(_("account"), max_length=64, blank=True)
    msg_type = models.CharField(_("type"), max_length=16)
    content = models.TextField(_("content"), blank=True)
    pic_url = models.URLField(_("photo"), max_length=500, blank=True)
    media_id = models.CharField(_("media id"), max_length=128, blank=True)
    sent_at = models.DateTimeField(_("sent at"))
    received_at = models.DateTimeField(_("arrived at"), default=timezone.now)
    reply = models.CharField(_("reply"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("WeChat message")
        verbose_name_plural = _("WeChat messages")
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return str(self.msg_id)


class TemplateMessage(models.Model):
    """A template message to a follower about one of their requests, sent once by the delivery job.

    `dedupe_key` names the occasion ("event:45" for case event 45); with the follower it is unique.
    `delivered_at` is set when the delivery job claims the row, before sending, so a message goes
    out at most once; a failure is kept in `delivery_error`.
    """

    follower = models.ForeignKey(
        WeChatFollower, verbose_name=_("follower"), on_delete=models.CASCADE, related_name="template_messages"
    )
    kind = models.CharField(_("kind"), max_length=24)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("service request"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    params = models.JSONField(_("content"), default=dict)
    url = models.CharField(_("link"), max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=100, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True, editable=False)
    provider_msg_id = models.CharField(_("WeChat message id"), max_length=64, blank=True, editable=False)
    delivery_error = models.TextField(_("delivery error"), blank=True, editable=False)

    class Meta:
        verbose_name = _("WeChat template message")
        verbose_name_plural = _("WeChat template messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(delivered_at__isnull=True), name="wechattemplate_undelivered"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["follower", "dedupe_key"], name="wechattemplate_dedupe_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.follower}"


class AccessToken(models.Model):
    """The WeChat API access token of an app, shared by every process (WeChat allows few refreshes a day)."""

    app_id = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=512, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("WeChat access token")
        verbose_name_plural = _("WeChat access tokens")

    def __str__(self) -> str:
        return self.app_id
