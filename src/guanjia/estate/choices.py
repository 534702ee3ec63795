"""Fixed choices of the estate ledger."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    RESIDENCE = "residence", _("Residence")
    SHOP = "shop", _("Shop")
    PARKING = "parking", _("Parking space")
    VILLA = "villa", _("Villa")


class UnitStatus(models.TextChoices):
    UNSOLD = "unsold", _("Unsold")
    SOLD = "sold", _("Sold")
    HANDED_OVER = "handed_over", _("Handed over")
    OCCUPIED = "occupied", _("Occupied")
    VACANT = "vacant", _("Vacant")
    RENOVATING = "renovating", _("Renovating")


# Colours of the building chart (Tabler palette names), one per status.
UNIT_STATUS_COLOURS = {
    UnitStatus.UNSOLD: "secondary",
    UnitStatus.SOLD: "azure",
    UnitStatus.HANDED_OVER: "teal",
    UnitStatus.OCCUPIED: "green",
    UnitStatus.VACANT: "yellow",
    UnitStatus.RENOVATING: "orange",
}


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class OccupancyRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    RESIDENT = "resident", _("Resident")
    TENANT = "tenant", _("Tenant")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Home visit")
    WALK_IN = "walk_in", _("Walk-in")
    WECHAT = "wechat", _("WeChat")
    SMS = "sms", _("SMS")
    OTHER = "other", _("Other")
