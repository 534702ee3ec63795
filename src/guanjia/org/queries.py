"""Scoped reads of the organisation."""

from django.shortcuts import get_object_or_404

from .models import Area, Company, Department, Project
from .scope import filter_by_scope, scope_of


def projects_for(user):
    return filter_by_scope(Project.objects.select_related("company"), user, project="id")


def companies_for(user):
    scope = scope_of(user)
    if scope.everything:
        return Company.objects.all()
    return Company.objects.filter(projects__id__in=scope.project_ids).distinct()


def areas_for(user):
    return filter_by_scope(Area.objects.select_related("project"), user, project="project_id", area="id")


def departments_for(user):
    scope = scope_of(user)
    if scope.everything:
        return Department.objects.select_related("company", "project")
    companies = Project.objects.filter(id__in=scope.project_ids).values("company_id")
    return Department.objects.select_related("company", "project").filter(company_id__in=companies)


def access_project_by_id(user, project_id):
    return get_object_or_404(projects_for(user), pk=project_id)
