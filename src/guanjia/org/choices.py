"""Fixed choices of the organisation: company levels, department kinds, roles and scopes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CompanyKind(models.TextChoices):
    GROUP = "group", _("Group")
    CITY = "city", _("City company")


class DepartmentKind(models.TextChoices):
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    ENGINEERING = "engineering", _("Engineering")
    PROPERTY = "property", _("Property company")
    SALES = "sales", _("Sales")
    DESIGN = "design", _("Design")
    COST = "cost", _("Cost")
    FINANCE = "finance", _("Finance")
    LEGAL = "legal", _("Legal")


class Role(models.TextChoices):
    SPECIALIST = "specialist", _("Customer-service specialist")
    BUTLER = "butler", _("Property butler")
    FRONT_DESK = "front_desk", _("Front desk / hotline agent")
    TEAM_LEAD = "team_lead", _("Team lead")
    MANAGER = "manager", _("Manager")
    INSPECTOR = "inspector", _("Quality inspector")
    HANDLER = "handler", _("Department handler")
    ADMIN = "admin", _("Group administrator")


class ScopeLevel(models.TextChoices):
    GROUP = "group", _("Whole group")
    COMPANY = "company", _("City company")
    PROJECT = "project", _("Project")
    AREA = "area", _("Area")
