"""REST API of the organisation: the projects a user may see (read only)."""

from django.db.models import Q
from ninja import Query, Router
from ninja.pagination import paginate

from guanjia.core.schemas import LinkedLimitOffset, Problem

from .queries import access_project_by_id, projects_for
from .schemas import ProjectFilters, ProjectOut

router = Router(tags=["projects"])

_ERRORS = {401: Problem, 404: Problem, 422: Problem}


@router.get("/projects", response={200: list[ProjectOut], 401: Problem, 422: Problem}, summary="List projects")
@paginate(LinkedLimitOffset)
def list_projects(request, filters: Query[ProjectFilters]):
    projects = projects_for(request.user)
    if filters.company is not None:
        projects = projects.filter(company_id=filters.company)
    if filters.q:
        text = filters.q.strip()
        projects = projects.filter(Q(name__contains=text) | Q(code__icontains=text))
    return projects.order_by("company__name", "name", "pk")


@router.get("/projects/{int:project_id}", response={200: ProjectOut, **_ERRORS}, summary="Get a project")
def get_project(request, project_id: int):
    return access_project_by_id(request.user, project_id)
