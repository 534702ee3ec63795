from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from guanjia.core.middleware import CurrentProjectMiddleware
from guanjia.estate.filters import BuildingFilterSet, PartyFilterSet, UnitFilterSet
from guanjia.estate.views import status_legend
from guanjia.org.choices import ScopeLevel
from guanjia.org.queries import areas_for, projects_for


@login_required
def home(request):
    """The workbench: what is in the user's scope (narrowed by the project switcher), counted by the database."""
    user, current = request.user, request.current_project_id
    projects = projects_for(user)
    if current:
        projects = projects.filter(pk=current)
    buildings = BuildingFilterSet(None, user, current_project_id=current).qs
    units = UnitFilterSet(None, user, current_project_id=current).qs
    parties = PartyFilterSet(None, user, current_project_id=current).qs
    status_counts = dict(units.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    context = {
        "project_count": projects.count(),
        "building_count": buildings.count(),
        "unit_total": sum(status_counts.values()),
        "legend": status_legend(status_counts),
        "party_count": parties.count(),
        "my_areas": areas_for(user) if user.scope_level == ScopeLevel.AREA else (),
    }
    return render(request, "core/home.html", context)


@login_required
@require_POST
def switch_project(request):
    """Remember the project chosen in the switcher; an empty choice means all projects in scope."""
    project_id = request.POST.get("project") or None
    if project_id and projects_for(request.user).filter(pk=project_id).exists():
        request.session[CurrentProjectMiddleware.SESSION_KEY] = int(project_id)
    else:
        request.session.pop(CurrentProjectMiddleware.SESSION_KEY, None)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)
