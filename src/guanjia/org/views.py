"""Console pages of the organisation: projects and one project's buildings, areas and departments."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, FloatField, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.shortcuts import render

from guanjia.estate.choices import UnitStatus
from guanjia.estate.filters import annotate_building_counts
from guanjia.estate.queries import buildings_for, units_for
from guanjia.estate.views import status_legend

from .queries import access_project_by_id, areas_for, departments_for, projects_for

# Handed over means the keys went to the owner; vacant (空置) and renovating units have been handed
# over too, they are just not lived in yet, so they count towards the handover rate.
HANDED_OVER = (UnitStatus.HANDED_OVER, UnitStatus.OCCUPIED, UnitStatus.VACANT, UnitStatus.RENOVATING)


def _count(queryset, **filters):
    """A per-project count subquery over a scoped queryset (keeps buildings × units from multiplying)."""
    counted = (
        queryset.filter(project=OuterRef("pk"), **filters)
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def projects_with_counts(user):
    """Projects in scope with buildings, units, sold units and handed-over units counted by the database."""
    units = units_for(user)
    projects = projects_for(user).annotate(
        building_count=_count(buildings_for(user)),
        unit_count=_count(units),
        sold_count=_count(units.exclude(status=UnitStatus.UNSOLD)),
        handed_over_count=_count(units.filter(status__in=HANDED_OVER)),
    )
    return projects.annotate(
        handover_rate=100.0
        * Cast(F("handed_over_count"), FloatField())
        / NullIf(Cast(F("sold_count"), FloatField()), Value(0.0))
    ).order_by("company__name", "name")


@login_required
def project_list(request):
    projects = list(projects_with_counts(request.user))
    return render(request, "org/project_list.html", {"projects": projects})


@login_required
def project_detail(request, pk):
    project = access_project_by_id(request.user, pk)
    buildings = annotate_building_counts(buildings_for(request.user).filter(project=project), request.user).order_by(
        "number", "name"
    )
    areas = (
        areas_for(request.user)
        .filter(project=project)
        .prefetch_related("butlers")
        .annotate(building_count=Count("buildings"))
    )
    departments = departments_for(request.user).filter(
        Q(project=project) | Q(project__isnull=True, company_id=project.company_id)
    )
    status_counts = dict(
        units_for(request.user)
        .filter(project=project)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    context = {
        "project": project,
        "buildings": buildings,
        "areas": areas,
        "departments": departments,
        "legend": status_legend(status_counts),
        "unit_total": sum(status_counts.values()),
    }
    return render(request, "org/project_detail.html", context)
