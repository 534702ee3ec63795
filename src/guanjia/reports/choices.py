from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", _("Weekly report")
    HALF_MONTHLY = "half_monthly", _("Half-monthly report")
    MONTHLY = "monthly", _("Monthly report")
    QUARTERLY = "quarterly", _("Quarterly report")
    ANNUAL = "annual", _("Annual report")


class ReportScopeLevel(models.TextChoices):
    COMPANY = "company", _("City company")
    PROJECT = "project", _("Project")
    AREA = "area", _("Area")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
