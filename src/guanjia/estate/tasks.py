"""Background jobs of the unit ledger."""

from django.conf import settings
from django.utils import translation
from huey.contrib.djhuey import db_task

from .importer import run_import_job


@db_task()
def run_ledger_import(job_id: int, language: str = "") -> None:
    """Validate and commit an uploaded ledger workbook; problems are written in the uploader's language."""
    with translation.override(language or settings.LANGUAGE_CODE):
        run_import_job(job_id)
