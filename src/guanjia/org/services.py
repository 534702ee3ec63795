"""Writes to the organisation made from the console or the API; each records change history."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanjia.core.errors import require
from guanjia.core.history import record_change, snapshot

from .choices import CompanyKind, ScopeLevel
from .models import Company, Project
from .permissions import can
from .scope import scope_of

PROJECT_FIELDS = ("company", "name", "code", "address", "property_company", "delivered_on")


def _may_hold_projects_of(user, company: Company | None) -> bool:
    """Creating or moving a project needs the whole company in scope: group staff, or the company's own."""
    if company is None:
        return True  # full_clean reports the missing company on its field
    if scope_of(user).everything:
        return True
    return user.scope_level == ScopeLevel.COMPANY and user.company_id == company.pk


def _check_project(user, project: Project) -> None:
    company = project.company if project.company_id else None
    if company is not None and company.kind != CompanyKind.CITY:
        raise ValidationError({"company": [_("Projects belong to a city company.")]})
    if not _may_hold_projects_of(user, company):
        raise ValidationError({"company": [_("This company is outside your scope.")]})
    project.full_clean()


@transaction.atomic
def do_create_project(user, data: dict, *, source: str = "console") -> Project:
    require(can(user, "project", "change"), _("You may not change projects."))
    project = Project(**{name: data[name] for name in PROJECT_FIELDS if name in data})
    _check_project(user, project)
    project.save()
    record_change(project, user, source=source)
    return project


@transaction.atomic
def do_update_project(user, project: Project, data: dict, *, source: str = "console") -> Project:
    require(can(user, "project", "change"), _("You may not change projects."))
    project = Project.objects.select_for_update().get(pk=project.pk)
    before = snapshot(project)
    for name in PROJECT_FIELDS:
        if name in data:
            setattr(project, name, data[name])
    if "company" in data:
        _check_project(user, project)
    else:
        project.full_clean()
    project.save()
    record_change(project, user, before, source=source)
    return project
