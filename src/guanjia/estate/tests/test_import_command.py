import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from guanjia.estate.models import ImportJob, Party, Unit
from guanjia.estate.tests.test_importer import PARTY_ROWS, UNIT_ROWS, ledger_counts, make_workbook


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def workbook_file(tmp_path):
    def write(units=UNIT_ROWS, parties=PARTY_ROWS):
        path = tmp_path / "台账.xlsx"
        path.write_bytes(make_workbook(units, parties).getvalue())
        return str(path)

    return write


def run(*args):
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_ledger", *args, stdout=out)
    return out.getvalue()


def test_cli_imports_the_workbook_and_records_the_job(world, workbook_file):
    output = run(workbook_file(), "--project", "lsjy", "--user", "specialist")

    assert "7 rows imported: 3 units created" in output
    assert Unit.objects.filter(building=world.b1, number="601").exists()
    assert Party.objects.filter(name="赵敏").exists()
    job = ImportJob.objects.get()
    assert (job.status, job.created_by, job.project, job.original_name) == (
        "done",
        world.specialist,
        world.project,
        "台账.xlsx",
    )


def test_cli_dry_run_checks_and_changes_nothing(world, workbook_file):
    before = ledger_counts()

    output = run(workbook_file(), "--project", "lsjy", "--user", "specialist", "--dry-run")

    assert "7 rows checked, no problems found" in output
    assert ledger_counts() == before
    assert not ImportJob.objects.exists()


def test_cli_prints_each_problem_by_sheet_row_and_column_and_exits_non_zero(world, workbook_file):
    parties = [dict(PARTY_ROWS[0], 手机="1234567"), *PARTY_ROWS[1:]]
    units = [*UNIT_ROWS, dict(UNIT_ROWS[0], 楼栋="9栋")]
    path = workbook_file(units, parties)
    before = ledger_counts()
    out = io.StringIO()

    with pytest.raises(CommandError) as raised, translation.override("en"):
        call_command("import_ledger", path, "--project", "lsjy", "--user", "specialist", stdout=out)

    assert raised.value.returncode == 1
    assert "2 problems found; nothing was imported." in str(raised.value)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("房号, row 5, column 楼栋: ") and "9栋" in line for line in lines)
    assert any(line.startswith("业主, row 2, column 手机: ") and "1234567" in line for line in lines)
    assert ledger_counts() == before
    assert ImportJob.objects.get().status == ImportJob.Status.INVALID


@pytest.mark.parametrize(
    ("project", "user"),
    [("jjhy", "specialist"), ("nope", "specialist"), ("lsjy", "butler"), ("lsjy", "nobody")],
    ids=["project outside scope", "unknown project", "role may not import", "unknown user"],
)
def test_cli_refuses_projects_and_users_that_may_not_import(world, workbook_file, project, user):
    before = ledger_counts()

    with pytest.raises(CommandError):
        run(workbook_file(), "--project", project, "--user", user)

    assert ledger_counts() == before
