"""Fixed choices of the owner portal: how a unit binding was made and where it stands, notice kinds."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BindingStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("binding", "Waiting for approval")
    ACTIVE = "active", pgettext_lazy("binding", "Bound")
    REJECTED = "rejected", pgettext_lazy("binding", "Not approved")
    REMOVED = "removed", pgettext_lazy("binding", "Removed")


# A binding in one of these states blocks a second binding of the same account to the same unit.
LIVE_BINDING_STATUSES = frozenset({BindingStatus.PENDING, BindingStatus.ACTIVE})


class BindingMethod(models.TextChoices):
    IDENTITY = "identity", _("Name and ID number checked")
    APPROVAL = "approval", _("Approved by staff")


class Relation(models.TextChoices):
    """What the applicant says they are to the unit (the ledger's occupancy role decides in the end)."""

    OWNER = "owner", pgettext_lazy("relation", "Owner")
    FAMILY = "family", pgettext_lazy("relation", "Family member")
    RESIDENT = "resident", pgettext_lazy("relation", "Resident")
    TENANT = "tenant", pgettext_lazy("relation", "Tenant")


class NoticeKind(models.TextChoices):
    ANNOUNCEMENT = "announcement", _("Announcement")
    WEATHER = "weather", _("Weather warning")


# Owners rate a closed request with 1–5 stars; this is how a rating reads as a follow-up outcome.
STARS = (1, 2, 3, 4, 5)
