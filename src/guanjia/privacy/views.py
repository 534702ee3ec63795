"""Console pages of personal data: reveal an ID number, export a person's data, anonymise a party, and
browse the access log. Thin: the party is read through `estate.queries` (scoped), every write goes
through `services`, and each of them is written to the access log.
"""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanjia.core.htmx import is_htmx
from guanjia.core.paging import CappedPaginator
from guanjia.estate.queries import access_party_by_id
from guanjia.org.permissions import can

from . import services
from .choices import ACTION_COLOURS
from .forms import AccessLogFilterSet, AnonymiseForm, PersonExportForm
from .queries import access_log_for, anonymisation_of


def _private(response: HttpResponse) -> HttpResponse:
    """Personal data in an answer: no cache on the way may keep it."""
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def reveal_id_number(request, pk):
    """The whole ID number of one party, for a role allowed to see it; written to the access log."""
    party = access_party_by_id(request.user, pk)
    try:
        number = services.reveal_id_number(request.user, party, request=request)
    except ValidationError as exc:
        number, error = "", " ".join(exc.messages)
    else:
        error = ""
    context = {"party": party, "number": number, "error": error}
    template = "privacy/_id_number_revealed.html" if is_htmx(request) else "privacy/id_number.html"
    return _private(render(request, template, context, status=400 if error else 200))


@login_required
@require_POST
def person_export(request, pk):
    """Everything held about one party, as xlsx or JSON (PIPL right of access); written to the access log."""
    if not can(request.user, "party", "export_data"):
        raise PermissionDenied
    party = access_party_by_id(request.user, pk)
    form = PersonExportForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("estate:party_detail", pk=party.pk)
    content, name, content_type = services.export_person_data(
        request.user,
        party,
        form.cleaned_data["format"],
        full_id_number=form.cleaned_data["full_id_number"],
        request=request,
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return _private(response)


@login_required
@require_http_methods(["GET", "POST"])
def anonymise(request, pk):
    """Confirm and anonymise a party (irreversible): a reason and a tick are required."""
    if not can(request.user, "party", "anonymise"):
        raise PermissionDenied
    party = access_party_by_id(request.user, pk)
    done = anonymisation_of(party)
    form = AnonymiseForm(request.POST or None)
    if request.method == "POST" and done is None and form.is_valid():
        try:
            services.anonymise_party(party, request.user, form.cleaned_data["reason"], request=request)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The party was anonymised."))
            return redirect("estate:party_detail", pk=party.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "privacy/anonymise.html", {"party": party, "form": form, "done": done}, status=status)


@login_required
def access_log(request):
    """The access log of the reader's scope, newest first, filtered; htmx gets the table only."""
    if not can(request.user, "privacy", "view_log"):
        raise PermissionDenied
    filters = AccessLogFilterSet(request.GET, request.user, access_log_for(request.user))
    page = CappedPaginator(filters.qs, settings.GUANJIA_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row.colour = ACTION_COLOURS.get(row.action, "secondary")
    party = None
    if "party" in filters.values:
        party = page[0].party if len(page) else None
    context = {"filters": filters, "page": page, "party_filter": filters.values.get("party"), "party": party}
    template = "privacy/_access_table.html" if is_htmx(request) else "privacy/access_log.html"
    return render(request, template, context)
