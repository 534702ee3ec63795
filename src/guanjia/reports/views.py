"""Console pages of reports: the dashboard of the reader's level, and where a login lands.

Thin: the scope comes from `queries.report_scope_for` (anything outside the reader's scope is a
404), the numbers from `dashboard.build_dashboard`, and the template prints them as tables with
charts drawn from the same data.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from guanjia.org.choices import Role

from .dashboard import DASHBOARD_GRAINS, SLA_LABELS, cached_dashboard
from .queries import report_scope_for

# Managers start the day on their dashboard; everyone else on the workbench.
DASHBOARD_FIRST = frozenset({Role.MANAGER})


def _narrowing(request) -> dict[str, int]:
    """?company=, ?project= or ?area= from the page, else the project chosen in the switcher."""
    narrow = {}
    for name in ("area", "project", "company"):
        value = request.GET.get(name)
        if value:
            try:
                narrow[name] = int(value)
            except ValueError:
                raise Http404 from None
            return narrow
    if request.current_project_id and request.user.scope_level in ("group", "company"):
        narrow["project"] = request.current_project_id
    return narrow


@login_required
@require_GET
def dashboard(request):
    grain = request.GET.get("grain")
    if grain not in DASHBOARD_GRAINS:
        grain = "month"
    narrow = _narrowing(request)
    try:
        scope = report_scope_for(request.user, **narrow)
    except Http404:
        if "project" in narrow and not request.GET.get("project"):
            # A switcher choice that no longer fits the scope: show the reader's own dashboard.
            scope = report_scope_for(request.user)
        else:
            raise
    board = cached_dashboard(request.user, scope, grain, narrow)
    context = {
        "board": board,
        "narrowed": bool(request.GET.get("company") or request.GET.get("project") or request.GET.get("area")),
        "sla_labels": SLA_LABELS,
        "drill": {"company": "company", "project": "project", "area": "area"}.get(board.breakdown),
    }
    return render(request, "reports/dashboard.html", context)


@login_required
def landing(request):
    """Where a login leads when it has no `next`: managers to their dashboard, others to the workbench."""
    if request.user.role in DASHBOARD_FIRST:
        return redirect("reports:dashboard")
    return redirect("home")
