"""Sign-in lockouts of the staff console, and views of django-axes' sign-in records for the admin.

The counting itself is django-axes' (`AccessAttempt` rows, one per user name, address and browser);
see `signin.py` for how Guanjia configures it. A `SignInLockout` row is written once, when an account
or an address becomes locked, so that administrators can see who was locked, when, from where, and
unlock them early.
"""

from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LockoutKind(models.TextChoices):
    ACCOUNT = "account", _("Account")
    ADDRESS = "address", _("Network address")


class SignInLockout(models.Model):
    """One lockout: a user name with too many wrong passwords, or an address with too many failed sign-ins.

    Written when the lockout starts; `unlocked_at` is set when an administrator lifts it early. It
    ends by itself at `until`.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=LockoutKind.choices)
    # The user name as typed: it may name no account at all (someone guessing names).
    username = models.CharField(_("user name"), max_length=255, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    started_at = models.DateTimeField(_("locked at"), default=timezone.now)
    until = models.DateTimeField(_("locked until"))
    failures = models.PositiveIntegerField(_("failures"), default=0)
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("unlocked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sign-in lockout")
        verbose_name_plural = _("sign-in lockouts")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["username", "-started_at"], name="lockout_username_started"),
            models.Index(fields=["ip", "-started_at"], name="lockout_ip_started"),
        ]

    def __str__(self) -> str:
        who = self.username if self.kind == LockoutKind.ACCOUNT else self.ip
        return f"{self.get_kind_display()} {who} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.unlocked_at is None and self.until > timezone.now()


class SignInRecord(AccessLog):
    """A successful staff sign-in (django-axes' access log): who, when, from which address and browser."""

    class Meta:
        proxy = True
        verbose_name = _("sign-in record")
        verbose_name_plural = _("sign-in records")


class FailedSignIn(AccessFailureLog):
    """A refused staff sign-in (django-axes' failure log); `locked_out` marks the one that locked."""

    class Meta:
        proxy = True
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
