"""Console pages of reports: the dashboard of the reader's level, and where a login lands.

Thin: the scope comes from `queries.report_scope_for` (anything outside the reader's scope is a
404), the numbers from `dashboard.build_dashboard`, and the template prints them as tables with
charts drawn from the same data.
"""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from guanjia.cases.filters import CaseFilterSet
from guanjia.org.choices import Role
from guanjia.org.permissions import can

from . import services
from .choices import ReportKind
from .dashboard import DASHBOARD_GRAINS, SLA_LABELS, cached_dashboard
from .document import ReportDocument
from .exports import XLSX, cases_xlsx_response
from .pdf import render_pdf
from .queries import access_report_by_id, report_scope_for, reports_for

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


@login_required
@require_GET
def case_export(request):
    """The workbench's list, with the same query string (queue, filters, search), as a streamed xlsx."""
    if not can(request.user, "cases", "export"):
        raise PermissionDenied
    filters = CaseFilterSet(request.GET, request.user, current_project_id=request.current_project_id)
    return cases_xlsx_response(request.user, filters.qs, {"view": filters.view, **filters.values})


# ------------------------------------------------------------------------------------------------ periodic reports


@login_required
@require_GET
def report_list(request):
    reports = reports_for(request.user).select_related("author")
    kind = request.GET.get("kind")
    if kind in ReportKind.values:
        reports = reports.filter(kind=kind)
    context = {"reports": reports[:200], "kinds": ReportKind.choices, "kind": kind}
    return render(request, "reports/periodic/report_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def report_detail(request, pk: int):
    report = access_report_by_id(request.user, pk)
    may_write = report.is_draft and can(request.user, "report", "submit")
    errors = []
    if request.method == "POST":
        commentary = request.POST.get("commentary", "")
        try:
            if request.POST.get("action") == "submit":
                services.do_submit_report(request.user, report, commentary)
                messages.success(request, _("The report was submitted; its figures are now frozen."))
            else:
                services.do_update_commentary(request.user, report, commentary)
                messages.success(request, _("The commentary was saved."))
        except ValidationError as exc:
            errors = [m for ms in exc.message_dict.values() for m in ms]
            report.commentary = commentary
        except PermissionDenied:
            raise
        else:
            return redirect("reports:report_detail", pk=report.pk)
    context = {"report": report, "doc": ReportDocument(report), "may_write": may_write, "errors": errors}
    return render(request, "reports/periodic/report_detail.html", context)


def _download_name(doc: ReportDocument, ext: str) -> str:
    return f"{doc.title}.{ext}"


@login_required
@require_GET
def report_xlsx(request, pk: int):
    report = access_report_by_id(request.user, pk)
    doc = ReportDocument(report)
    response = HttpResponse(doc.xlsx(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_download_name(doc, 'xlsx'))}"
    return response


@login_required
@require_GET
def report_pdf(request, pk: int):
    report = access_report_by_id(request.user, pk)
    doc = ReportDocument(report)
    response = HttpResponse(render_pdf(doc), content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(_download_name(doc, 'pdf'))}"
    return response
