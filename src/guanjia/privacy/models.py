"""The personal-data access log (PIPL 《个人信息保护法》) and the record of anonymised parties.

Only `services.py` writes these rows, and never changes them afterwards.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.estate.models import Party
from guanjia.org.models import Company, Project

from .choices import AccessAction


class PersonalDataAccessQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The personal-data access log is append-only.")


class PersonalDataAccess(models.Model):
    """One access to personal data: who, when, from which address, what, and about whom.

    `party` is the person whose data was seen (a party page, a revealed ID number, a person's data
    export, an anonymisation); an export of a list has no party but a `description` of its filters
    and its `row_count`. `project` and `company` place the row for scoping the log itself: the
    party's registered project, or the project an export was narrowed to, or else the exporter's own
    project or company. `username` is copied so that the row keeps its author when the account goes.

    Written by `services.record_access` with a single INSERT before the data leaves the server.
    """

    time = models.DateTimeField(_("time"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    party = models.ForeignKey(
        Party, verbose_name=_("party"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # No database constraint: a log row keeps the place it was written for, even an id typed into an
    # API filter that matches no project, and even after the project is gone.
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    description = models.CharField(_("what"), max_length=500, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    objects = PersonalDataAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal-data access")
        verbose_name_plural = _("personal-data accesses")
        ordering = ["-time", "-id"]
        indexes = [
            # The log page: newest first, whole log or one project's rows, one party's or one person's accesses.
            models.Index(fields=["-time", "-id"], name="pda_time"),
            models.Index(fields=["project", "-time"], name="pda_project_time"),
            models.Index(fields=["party", "-time"], name="pda_party_time"),
            models.Index(fields=["user", "-time"], name="pda_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.get_action_display()} {self.time:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The personal-data access log is append-only.")
        super().save(*args, **kwargs)


class PartyAnonymisation(models.Model):
    """A party whose personal data was replaced by placeholders (`services.anonymise_party`): when,
    by whom and why. One per party, so a party is never anonymised twice, even by two admins at once."""

    party = models.OneToOneField(Party, verbose_name=_("party"), on_delete=models.PROTECT, related_name="anonymisation")
    time = models.DateTimeField(_("time"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("anonymised by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("anonymisation")
        verbose_name_plural = _("anonymisations")
        ordering = ["-time"]

    def __str__(self) -> str:
        return f"{self.party_id} {self.time:%Y-%m-%d}"
