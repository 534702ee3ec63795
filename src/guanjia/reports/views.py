"""Console pages of reports: the dashboard of the reader's level, where a login lands, the periodic
reports and the case collection.

Thin: the scope comes from `queries` (anything outside the reader's scope is a 404), the numbers
from `dashboard.build_dashboard`, the case studies' rules from `casebook`, and the templates print
the results.
"""

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanjia.cases.choices import CaseType
from guanjia.cases.filters import CaseFilterSet, category_choices
from guanjia.cases.models import Category
from guanjia.cases.queries import access_case_by_id
from guanjia.core.errors import field_errors
from guanjia.org.choices import Role
from guanjia.org.permissions import can
from guanjia.org.queries import projects_for

from . import casebook as book
from . import services
from .choices import CaseStudyStatus, ReportKind
from .dashboard import DASHBOARD_GRAINS, SLA_LABELS, cached_dashboard
from .document import ReportDocument
from .exports import XLSX, cases_xlsx_response
from .forms import CaseStudyForm, ReviewForm
from .pdf import render_booklet_pdf, render_pdf
from .queries import (
    CaseStudyFilter,
    access_case_study_by_id,
    access_report_by_id,
    case_studies_for,
    report_scope_for,
    reports_for,
)

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
    return cases_xlsx_response(request.user, filters.qs, {"view": filters.view, **filters.values}, request=request)


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


# ------------------------------------------------------------------------------------------------ case collection

CASEBOOK_TABS = ("published", "in_review", "draft", "withdrawn")
# A booklet beyond this many studies is better cut by year or project first (WeasyPrint lays out
# every page in memory; 100 studies take about 10 s on a 2-core machine).
BOOKLET_MAX = 100


def _casebook_filters(request) -> CaseStudyFilter:
    return CaseStudyFilter(request.GET, request.user)


@login_required
@require_GET
def casebook(request):
    """The collection: published studies of the reader's scope, filtered; writers and reviewers
    also see the drafts, studies in review and withdrawn ones they may work on."""
    filters = _casebook_filters(request)
    visible = case_studies_for(request.user)
    workers = book.may_write(request.user) or book.may_review(request.user)
    tab = request.GET.get("status") if workers else None
    if tab not in CASEBOOK_TABS:
        tab = "published"
    counts = {}
    if workers:
        counts = {s: 0 for s in CASEBOOK_TABS}
        for row in filters.apply(visible).values("status").annotate(n=Count("pk")):
            counts[row["status"]] = row["n"]
    studies = filters.apply(visible).filter(status=tab)
    order = ("-published_at", "-occurred_on", "-id") if tab == "published" else ("-updated_at", "-id")
    published = visible.filter(status=CaseStudyStatus.PUBLISHED)
    used_categories = set(published.exclude(category=None).values_list("category_id", flat=True))
    if filters.category is not None:
        used_categories.add(filters.category.pk)
    # The categories of the published studies, with their ancestors so the tree reads as a tree.
    nodes = {c.pk: c for c in Category.objects.all()}
    shown = set()
    for pk in used_categories:
        node = nodes.get(pk)
        while node is not None and node.pk not in shown:
            shown.add(node.pk)
            node = nodes.get(node.parent_id)
    # The projects that have published studies (and the one chosen, even without any).
    projects = list(projects_for(request.user).filter(pk__in=published.values("project_id")).order_by("name"))
    if filters.project is not None and filters.project not in projects:
        projects.append(filters.project)
    context = {
        "studies": studies.order_by(*order)[:300],
        "total": studies.count(),
        "filters": filters,
        "query": urlencode(filters.values),
        "tab": tab,
        "tabs": [(s, CaseStudyStatus(s).label, counts.get(s, 0)) for s in CASEBOOK_TABS] if workers else [],
        "projects": projects,
        "case_types": CaseType.choices,
        "categories": category_choices([nodes[pk] for pk in shown]),
        "years": sorted(
            {d.year for d in published.dates("occurred_on", "year")} | {filters.year or 0} - {0}, reverse=True
        ),
        "booklet_max": BOOKLET_MAX,
    }
    return render(request, "reports/casebook/casebook.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def case_study_detail(request, pk: int):
    """One study: the write-up as readers see it, the author's edit form while it is a draft, the
    review actions and the review log."""
    study = access_case_study_by_id(request.user, pk)
    actions = book.allowed_actions(request.user, study)
    form = CaseStudyForm(study=study) if "edit" in actions else None
    if request.method == "POST":
        if "edit" not in actions:
            if study.author_id != request.user.pk:
                raise PermissionDenied
            messages.error(request, book.status_refusal("edit", study.status))
            return redirect("reports:case_study_detail", pk=study.pk)
        form = CaseStudyForm(request.POST, study=study)
        if form.is_valid():
            try:
                study = book.do_update_case_study(
                    request.user, study, expected_version=form.cleaned_data["version"], **form.service_values()
                )
                if request.POST.get("action") == "submit":
                    book.do_submit_case_study(request.user, study, expected_version=study.version)
            except ValidationError as exc:
                form.add_service_errors(exc)
                # The edits may be saved already (a submit that lacks a part): the form goes on from there.
                form.data = form.data.copy()
                form.data["version"] = str(study.version)
            else:
                if request.POST.get("action") == "submit":
                    messages.success(request, _("The case study was submitted for review."))
                else:
                    messages.success(request, _("The draft was saved."))
                return redirect("reports:case_study_detail", pk=study.pk)
    context = {
        "study": study,
        "form": form,
        "actions": [a for a in actions if a != "edit"],
        "may_review": book.may_review(request.user),
        "review_form": ReviewForm(initial={"version": study.version}),
        "steps": list(study.steps.select_related("actor")),
    }
    return render(request, "reports/casebook/case_study.html", context, status=400 if form and form.errors else 200)


@login_required
@require_POST
def case_study_action(request, pk: int, action: str):
    """Submit, approve (publish), return, withdraw or revise: one review step with its comment."""
    if action not in book.DO:
        raise Http404
    study = access_case_study_by_id(request.user, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        # Say what is wrong: the comment (too long), or the page itself (sent without its version).
        if "version" in form.errors:
            messages.error(request, _("The page is out of date; reload it and try again."))
        for error in form.errors.get("comment", []):
            messages.error(request, f"{form.fields['comment'].label}：{error}")
        return redirect("reports:case_study_detail", pk=study.pk)
    try:
        book.DO[action](
            request.user, study, expected_version=form.cleaned_data["version"], comment=form.cleaned_data["comment"]
        )
    except ValidationError as exc:
        for message in [m for ms in field_errors(exc).values() for m in ms]:
            messages.error(request, message)
    else:
        messages.success(request, STEP_MESSAGES[action]())
    return redirect("reports:case_study_detail", pk=study.pk)


STEP_MESSAGES = {
    "submit": lambda: _("The case study was submitted for review."),
    "approve": lambda: _("The case study was published in the collection."),
    "return": lambda: _("The case study was returned to its author."),
    "withdraw": lambda: _("The case study was withdrawn."),
    "revise": lambda: _("The case study is a draft again."),
}


@login_required
@require_POST
def case_study_mark(request, case_id: int):
    """The request page's "mark as a typical case": its study, created as a draft when there is none."""
    case = access_case_by_id(request.user, case_id)
    try:
        study, created = book.do_mark_case_typical(request.user, case)
    except ValidationError as exc:
        for message in [m for ms in field_errors(exc).values() for m in ms]:
            messages.error(request, message)
        return redirect("cases:case_detail", pk=case.pk)
    if created:
        messages.success(
            request, _("A draft case study was written from the request; complete it and submit it for review.")
        )
    return redirect("reports:case_study_detail", pk=study.pk)


@login_required
@require_GET
def casebook_pdf(request):
    """The published studies of the current filter as a booklet: cover, contents, one chapter each."""
    filters = _casebook_filters(request)
    studies = filters.apply(case_studies_for(request.user).filter(status=CaseStudyStatus.PUBLISHED))
    studies = studies.order_by("occurred_on", "id")
    if studies.count() > BOOKLET_MAX:
        messages.error(
            request,
            _("The booklet holds at most %(count)s case studies; narrow the list by year, project or type first.")
            % {"count": BOOKLET_MAX},
        )
        return redirect(f"{reverse('reports:casebook')}?{urlencode(filters.values)}")
    scope_name = filters.project.name if filters.project else report_scope_for(request.user).name
    booklet = book.build_booklet(studies, scope_name=scope_name, filters=filters.summary(), year=filters.year)
    response = HttpResponse(render_booklet_pdf(booklet), content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(booklet.title + '.pdf')}"
    return response
