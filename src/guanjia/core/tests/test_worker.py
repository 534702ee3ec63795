"""A real background worker process picks up work queued by the web process.

Runs when the database is one a second process can reach (PostgreSQL, or an SQLite file);
with REDIS_URL set the queue is Redis, as in production.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from guanjia.estate.models import ImportJob, Party
from guanjia.estate.tests.test_importer import make_workbook

ROOT = Path(__file__).resolve().parents[4]

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    pytest.skip("the test database lives in this process's memory; another process cannot reach it")


@pytest.fixture
def worker(tmp_path, settings):
    from huey.contrib.djhuey import HUEY

    url = _database_url()
    settings.MEDIA_ROOT = tmp_path / "media"  # the uploaded workbook must be where the worker looks
    HUEY.flush()  # tasks left over from an interrupted run would be taken first
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DATABASE_URL=url, MEDIA_ROOT=str(settings.MEDIA_ROOT), DJANGO_SETTINGS_MODULE="guanjia.settings")
    proc = subprocess.Popen(
        [sys.executable, "-m", "guanjia", "run_huey", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_worker_process_runs_a_queued_import(world, worker):
    from guanjia.estate.tasks import run_ledger_import

    row = {"楼栋": "3栋", "单元": "2单元", "房号": "1502", "姓名": "周杰", "身份": "住户", "手机": "13600001111"}
    job = ImportJob.objects.create(project=world.project, original_name="台账.xlsx", created_by=world.specialist)
    job.file.save("台账.xlsx", ContentFile(make_workbook(parties=[row]).getvalue()))
    run_ledger_import(job.pk, "zh-hans")  # queued: HUEY.immediate is off for tests marked `worker`

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.INVALID):
            break
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.3)
    assert job.status == ImportJob.Status.DONE, (job.status, job.errors)
    assert Party.objects.filter(name="周杰", occupancies__unit=world.unit_b).exists()
