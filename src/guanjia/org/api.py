"""REST API of the organisation: the projects a user may see; create and update for managers."""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from guanjia.core.schemas import LinkedLimitOffset, Problem

from . import services
from .models import Company
from .queries import access_project_by_id, projects_for
from .schemas import ProjectFilters, ProjectIn, ProjectOut, ProjectPatch

router = Router(tags=["projects"])

_ERRORS = {401: Problem, 404: Problem, 422: Problem}
_WRITE_ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem}


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


def _project_data(data: dict) -> dict:
    """Turn the company id into the company; an unknown id is reported on the field."""
    if data.get("company") is not None:
        company = Company.objects.filter(pk=data["company"]).first()
        if company is None:
            raise ValidationError({"company": [_("No such company.")]})
        data["company"] = company
    elif "company" in data:
        data.pop("company")
    return data


@router.post("/projects", response={201: ProjectOut, **_WRITE_ERRORS}, summary="Create a project")
def create_project(request, payload: ProjectIn):
    data = _project_data(payload.model_dump())
    return Status(201, services.do_create_project(request.user, data, source="api"))


@router.patch("/projects/{int:project_id}", response={200: ProjectOut, **_WRITE_ERRORS}, summary="Update a project")
def update_project(request, project_id: int, payload: ProjectPatch):
    project = access_project_by_id(request.user, project_id)
    data = _project_data(payload.model_dump(exclude_unset=True))
    return services.do_update_project(request.user, project, data, source="api")
