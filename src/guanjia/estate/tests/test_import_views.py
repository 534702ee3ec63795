import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.estate.importer import SHEET_PARTIES, SHEET_UNITS, UNIT_COLUMNS
from guanjia.estate.models import ImportJob, Occupancy, Party, Unit
from guanjia.estate.tests.test_importer import PARTY_ROWS, UNIT_ROWS, ledger_counts, make_workbook
from guanjia.testing import PASSWORD


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks):
    """POST a workbook; the background task runs inline once the job row is committed."""

    def post(project, workbook, name="台账.xlsx"):
        workbook.name = name
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("estate:import"), {"project": project.pk, "file": workbook})

    return post


def test_upload_page_offers_only_projects_in_scope(client, world):
    response = login(client, world.specialist).get(reverse("estate:import"))

    assert response.status_code == 200
    projects = list(response.context["form"].fields["project"].queryset)
    assert projects == [world.project]


@pytest.mark.parametrize("name", ["estate:import", "estate:import_template"])
def test_role_without_import_permission_gets_403(client, world, name):
    response = login(client, world.butler).get(reverse(name))

    assert response.status_code == 403


def test_template_download_is_the_workbook_contract(client, world):
    response = login(client, world.specialist).get(reverse("estate:import_template"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in workbook[SHEET_UNITS][1]] == list(UNIT_COLUMNS)


def test_valid_upload_runs_in_the_background_and_shows_the_summary(client, world, upload):
    login(client, world.specialist)

    response = upload(world.project, make_workbook(UNIT_ROWS, PARTY_ROWS))

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("estate:import_detail", args=[job.pk])
    assert job.status == ImportJob.Status.DONE
    assert (job.project, job.created_by, job.original_name) == (world.project, world.specialist, "台账.xlsx")
    assert job.total_rows == job.processed_rows == 7
    assert not job.file  # the workbook with whole ID numbers is not kept
    assert job.summary["units_created"] == 3 and job.summary["occupancies_created"] == 4
    assert Unit.objects.filter(building=world.b1, number="601").exists()
    assert Party.objects.filter(name="赵敏").exists()

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'hx-trigger="every 1s"' not in page.content.decode()
    assert page.context["job"].summary["parties_created"] == 3
    listing = client.get(reverse("estate:import"))
    assert job in listing.context["jobs"]


def test_upload_with_problems_lists_them_and_changes_nothing(client, world, upload):
    login(client, world.specialist)
    before = ledger_counts()
    parties = [dict(PARTY_ROWS[0], 手机="1234567"), *PARTY_ROWS[1:]]

    response = upload(world.project, make_workbook(UNIT_ROWS, parties))

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INVALID
    assert [(p["sheet"], p["row"], p["column"]) for p in job.errors] == [(SHEET_PARTIES, 2, "手机")]
    assert ledger_counts() == before
    page = client.get(response["Location"]).content.decode()
    assert "1234567" in page and "手机" in page
    download = client.get(reverse("estate:import_problems", args=[job.pk]))
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == (SHEET_PARTIES, 2, "手机")


def test_project_outside_scope_is_refused(client, world, upload):
    login(client, world.specialist)

    response = upload(world.other_project, make_workbook(UNIT_ROWS))

    assert response.status_code == 200
    assert "project" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_file_that_is_not_xlsx_is_refused(client, world, upload):
    login(client, world.specialist)

    response = upload(world.project, io.BytesIO(b"a,b\n"), name="ledger.csv")

    assert "file" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_running_job_is_polled_every_second_and_htmx_gets_the_fragment(client, world):
    job = ImportJob.objects.create(
        original_name="x.xlsx", project=world.project, created_by=world.specialist, total_rows=2000,
        processed_rows=500, status=ImportJob.Status.VALIDATING,
    )  # fmt: skip
    login(client, world.specialist)

    fragment = client.get(reverse("estate:import_detail", args=[job.pk]), headers={"HX-Request": "true"})

    html = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "width: 25%" in html
    assert "<html" not in html


def test_jobs_outside_scope_are_not_found(client, world):
    job = ImportJob.objects.create(original_name="x.xlsx", project=world.project, created_by=world.specialist)
    login(client, world.outsider)

    assert client.get(reverse("estate:import_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("estate:import_problems", args=[job.pk])).status_code == 404
    assert job not in client.get(reverse("estate:import")).context["jobs"]


def test_a_job_runs_once_even_if_delivered_twice(world, settings, tmp_path):
    from django.core.files.base import ContentFile

    from guanjia.estate.importer import run_import_job

    job = ImportJob(original_name="台账.xlsx", project=world.project, created_by=world.specialist)
    job.file.save("台账.xlsx", ContentFile(make_workbook(UNIT_ROWS, PARTY_ROWS).getvalue()))

    run_import_job(job.pk)
    run_import_job(job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Occupancy.objects.filter(party__name="赵敏").count() == 2
    assert Unit.objects.filter(building=world.b1, number="601").count() == 1
