"""The organisation: group, city companies, projects, departments, areas and staff."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import TimeStampedModel

from .choices import CompanyKind, DepartmentKind, Role, ScopeLevel


class Company(TimeStampedModel):
    """The group (集团) or one of its city companies (城市公司); city companies hang under the group."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    kind = models.CharField(_("level"), max_length=10, choices=CompanyKind.choices, default=CompanyKind.CITY)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    city = models.CharField(_("city"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Project(TimeStampedModel):
    """A project or community (项目/社区) of a city company, e.g. 绿色家园."""

    company = models.ForeignKey(
        Company, verbose_name=_("city company"), on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    property_company = models.CharField(_("property company"), max_length=100, blank=True)
    delivered_on = models.DateField(_("handover date"), null=True, blank=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["company__name", "name"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="project_name_unique_in_company")]

    def __str__(self) -> str:
        return self.name


class Department(TimeStampedModel):
    """A department of a city company, or of one project when `project` is set."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="departments"
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["company__name", "kind", "name"]

    def __str__(self) -> str:
        return self.name


class Area(TimeStampedModel):
    """A butler's area (片区): a set of buildings of one project, served by one or more butlers.

    Buildings point at their area (`Building.area`), so a building is in at most one area.
    """

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="areas")
    name = models.CharField(_("name"), max_length=50)
    butlers = models.ManyToManyField("org.Staff", verbose_name=_("butlers"), blank=True, related_name="areas")

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["project__name", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="area_name_unique_in_project")]

    def __str__(self) -> str:
        return f"{self.project.name}·{self.name}"


class Staff(AbstractUser):
    """A staff account: one role and one scope that decides which projects the person sees.

    Scope `group` sees everything; `company` the projects of `company`; `project` one
    `project`; `area` the buildings of the areas the person serves (`areas`).
    """

    HISTORY_EXCLUDE = ("password", "last_login")

    display_name = models.CharField(_("name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SPECIALIST)
    scope_level = models.CharField(_("scope"), max_length=10, choices=ScopeLevel.choices, default=ScopeLevel.PROJECT)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.display_name or self.username

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if self.scope_level == ScopeLevel.COMPANY and not self.company_id:
            raise ValidationError({"company": _("A company scope needs a company.")})
        if self.scope_level in (ScopeLevel.PROJECT, ScopeLevel.AREA) and not self.project_id:
            raise ValidationError({"project": _("A project or area scope needs a project.")})
