"""What a personal-data access was: the `action` of a `PersonalDataAccess` row."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    # A party's page opened by a role that sees whole phone numbers.
    VIEW_FULL_PHONE = "view_phone", _("Viewed party with full phone")
    # A party's page opened by a role that sees masked phones (the name and units are still personal data).
    VIEW_PARTY = "view_party", _("Viewed party")
    REVEAL_ID = "reveal_id", _("Revealed ID number")
    EXPORT = "export", _("Exported personal data")
    PERSON_EXPORT = "person_export", _("Exported a person's data")
    ANONYMISE = "anonymise", _("Anonymised a party")


ACTION_COLOURS = {
    AccessAction.VIEW_FULL_PHONE: "blue",
    AccessAction.VIEW_PARTY: "secondary",
    AccessAction.REVEAL_ID: "orange",
    AccessAction.EXPORT: "purple",
    AccessAction.PERSON_EXPORT: "purple",
    AccessAction.ANONYMISE: "red",
}


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel workbook (.xlsx)")
    JSON = "json", _("JSON file")
