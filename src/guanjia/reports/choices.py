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


class CaseStudyStatus(models.TextChoices):
    """Where a case study (典型案例) stands: written, reviewed, in the collection, or taken out of it."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class CaseStudyStepKind(models.TextChoices):
    """One step of a case study's review, as its log shows it."""

    MARKED = "marked", _("Marked as a typical case")
    SUBMITTED = "submitted", _("Submitted for review")
    RETURNED = "returned", _("Returned for changes")
    PUBLISHED = "published", _("Approved and published")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REVISED = "revised", _("Taken back for revision")
