"""Ledger import pages: upload a workbook, follow its progress, download the template or the problems.

The import itself runs in the background worker (`tasks.run_ledger_import`); these views only
store the upload as an `ImportJob` and show what the worker wrote on it.
"""

from pathlib import Path
from urllib.parse import quote

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.org.permissions import can

from .importer import build_problem_workbook, build_template, import_jobs_for, importable_projects
from .models import ImportJob
from .tasks import run_ledger_import

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PROBLEMS_SHOWN = 500
FINISHED = {ImportJob.Status.INVALID, ImportJob.Status.DONE, ImportJob.Status.FAILED}


class ImportForm(forms.Form):
    project = forms.ModelChoiceField(label=gettext_lazy("Project"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=gettext_lazy("Workbook"),
        help_text=gettext_lazy("An .xlsx file made from the template, at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only projects in scope are offered, and only they are accepted.
        self.fields["project"].queryset = importable_projects(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() != ".xlsx":
            raise forms.ValidationError(_("Upload an Excel workbook (.xlsx)."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload


def _require_import(user) -> None:
    if not can(user, "ledger", "import"):
        raise PermissionDenied


def _attachment(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
def import_upload(request):
    """The upload form and the recent imports of the projects in scope."""
    _require_import(request.user)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            job = ImportJob.objects.create(
                file=upload,
                original_name=upload.name[:200],
                project=form.cleaned_data["project"],
                created_by=request.user,
            )
            language = translation.get_language() or ""
            transaction.on_commit(lambda: run_ledger_import(job.pk, language))
            return redirect("estate:import_detail", pk=job.pk)
    else:
        form = ImportForm(user=request.user, initial={"project": request.current_project_id})
    jobs = import_jobs_for(request.user)[:20]
    return render(request, "estate/import.html", {"form": form, "jobs": jobs})


@login_required
def import_detail(request, pk):
    """Progress while the job runs (polled by htmx every second), then the problems or the summary."""
    _require_import(request.user)
    job = get_object_or_404(import_jobs_for(request.user), pk=pk)
    context = {
        "job": job,
        "finished": job.status in FINISHED,
        "problems": job.errors[:PROBLEMS_SHOWN],
        "more_problems": max(len(job.errors) - PROBLEMS_SHOWN, 0),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "estate/_import_status.html", context)
    return render(request, "estate/import_detail.html", context)


@login_required
def import_problems(request, pk):
    """All problems of a job as a workbook."""
    _require_import(request.user)
    job = get_object_or_404(import_jobs_for(request.user), pk=pk)
    name = f"{Path(job.original_name).stem}-{_('problems')}.xlsx"
    return _attachment(build_problem_workbook(job.errors), name)


@login_required
def import_template(request):
    _require_import(request.user)
    return _attachment(build_template(), f"{_('Ledger import template')}.xlsx")
