"""Two web processes and two background workers on one host share the work without doubling it.

As in production (docs/deploy.md): two gunicorn servers, each on its own port, and two Huey
consumers (`guanjia worker`), all on the same PostgreSQL database (the pytest test database) and
the same Redis queue (its own Redis database number and queue name, so parallel runs do not mix).
Requests are recorded through both servers at once, some with the same Idempotency-Key sent to
both; then every request is made overdue and SLA sweeps are queued many times, so both workers
sweep and deliver at the same time. Afterwards every request exists once with its own number,
every breach and notification is recorded once, and every e-mail and text message went out once.

Runs only on PostgreSQL with REDIS_URL set (the second CI leg); SQLite and an in-process queue
cannot be shared by several machines, so they are not what this proves.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from guanjia.cases.models import Case
from guanjia.core.models import ApiToken
from guanjia.notifications.choices import DeadlineKind
from guanjia.notifications.models import Notification, SlaBreach
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff

from .outbox import read_outbox

ROOT = Path(__file__).resolve().parents[4]
BIN = Path(sys.executable).parent
# A Redis database of its own; the queue name is unique per run as well.
REDIS_DB = 12
CASES = 36  # recorded through the API: every third key is sent to both servers at once
SWEEPS = 10
DEADLINE_S = 40
SERVER_OPTIONS = ("--workers", "1", "--threads", "4", "--timeout", "60")

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="needs PostgreSQL (DATABASE_URL=postgres://…): several processes share the test database",
    ),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: the workers share a Redis queue"),
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        user += ":" + quote(db["PASSWORD"])
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _redis_url() -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", parts.query, ""))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, what: str, timeout: float = DEADLINE_S, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        for proc in procs:
            assert proc.poll() is None, f"{proc.args[:3]} exited with {proc.returncode} while waiting for {what}"
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    """The processes of one test run, their logs and ports."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.huey_name = f"guanjia-test-{uuid.uuid4().hex[:10]}"
        self.redis_url = _redis_url()
        self.outbox = tmp_path / "outbox.jsonl"
        self.env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY"}}
        self.env.update(
            DATABASE_URL=_database_url(),
            REDIS_URL=self.redis_url,
            HUEY_NAME=self.huey_name,
            DJANGO_SETTINGS_MODULE="guanjia.core.tests.multiprocess_settings",
            GUANJIA_VAR_DIR=str(tmp_path / "var"),
            GUANJIA_SECURE="0",
            DEBUG="false",
            GUANJIA_TEST_OUTBOX=str(self.outbox),
            LOG_LEVEL="INFO",
        )
        self.procs: list[subprocess.Popen] = []
        self.web_ports: list[int] = []
        self.worker_logs: list[Path] = []

    def _start(self, name: str, argv: list[str]) -> tuple[subprocess.Popen, Path]:
        log = self.tmp / f"{name}.log"
        handle = log.open("wb")
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        self.procs.append(proc)
        return proc, log

    def start_web(self) -> None:
        port = _free_port()
        self._start(
            f"web-{port}",
            [str(BIN / "gunicorn"), "guanjia.wsgi:application", "--bind", f"127.0.0.1:{port}", *SERVER_OPTIONS],
        )
        self.web_ports.append(port)

    def start_worker(self) -> None:
        n = len(self.worker_logs) + 1
        _proc, log = self._start(f"worker-{n}", [sys.executable, "-m", "guanjia", "run_huey", "--workers", "2"])
        self.worker_logs.append(log)

    def wait_ready(self) -> None:
        def web_up(port):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
                    return r.status == 200
            except (OSError, urllib.error.HTTPError):
                return False

        for port in self.web_ports:
            _wait(lambda port=port: web_up(port), f"web server on :{port}", procs=self.procs)
        for log in self.worker_logs:
            _wait(lambda log=log: "consumer started" in log.read_text(), f"worker {log.name}", procs=self.procs)

    def executed(self, log: Path) -> Counter:
        """Tasks this worker ran, by name."""
        counts = Counter()
        for line in log.read_text().splitlines():
            if "Executing guanjia." in line:
                counts[line.split("Executing ", 1)[1].split(":", 1)[0]] += 1
        return counts

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage

    c = Cluster(tmp_path)
    c.storage = RedisStorage(name=c.huey_name, url=c.redis_url)
    # Tasks this process queues (the sweeps below) go to the cluster's queue.
    monkeypatch.setattr(HUEY, "storage", c.storage)
    try:
        yield c
    finally:
        c.stop()
        c.storage.flush_all()


def post_case(port: int, token: str, key: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/cases",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {"error": exc.read().decode(errors="replace")[:500]}


def test_two_web_processes_and_two_workers_share_the_work_without_doubling_it(world, cluster):
    w = world
    for staff, email, phone in (
        (w.specialist, "kefu@example.com", "13800000001"),
        (w.manager, "jingli@example.com", "13800000003"),
    ):
        staff.email, staff.phone = email, phone
        staff.save(update_fields=["email", "phone"])
    make_staff(
        "banzhang",
        Role.TEAM_LEAD,
        ScopeLevel.PROJECT,
        project=w.project,
        email="banzhang@example.com",
        phone="13800000002",
    )
    _, token = ApiToken.issue(w.specialist, "multiprocess test")

    for _ in range(2):
        cluster.start_web()
        cluster.start_worker()
    cluster.wait_ready()

    # --- intake through both servers at once ------------------------------------------------------
    run = uuid.uuid4().hex[:8]
    jobs = []
    for n in range(CASES):
        key = f"mp-{run}-{n:03d}"
        body = {
            "type": "repair",
            "channel": "hotline",
            "project": w.project.pk,
            "units": [w.unit_a.pk if n % 2 else w.unit_b.pk],
            "party": (w.owner_a if n % 2 else w.owner_b).pk,
            "description": f"卫生间漏水，楼下天花板渗水（第{n}号）",
            # Risk flags notify the team lead and the manager at once, through the workers.
            "risk_major": n % 6 == 0,
        }
        ports = cluster.web_ports if n % 3 == 0 else [cluster.web_ports[n % 2]]
        jobs += [(port, key, body) for port in ports]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda job: (job[1], job[0], *post_case(job[0], token, job[1], job[2])), jobs))

    by_key: dict[str, list[tuple[int, int, dict]]] = {}
    for key, port, status, body in answers:
        assert status in (200, 201), (key, port, status, body)
        by_key.setdefault(key, []).append((port, status, body))
    assert len(by_key) == CASES
    for key, replies in by_key.items():
        # The key sent to both servers: one recorded it (201), the other answered with that request (200).
        assert sorted(status for _, status, _ in replies) == ([200, 201] if len(replies) == 2 else [201]), key
        assert len({body["number"] for _, _, body in replies}) == 1, key
    assert {port for _, port, _, _ in answers} == set(cluster.web_ports)

    mine = Case.objects.filter(owner=w.specialist, intake_key__startswith=f"mp-{run}-")
    assert mine.count() == CASES
    assert mine.values("intake_key").distinct().count() == CASES
    assert mine.values("number").distinct().count() == CASES
    assert {b[0][2]["number"] for b in by_key.values()} == set(mine.values_list("number", flat=True))

    # --- every request overdue for a day; sweeps queued many times, both workers take them -----------
    Case.objects.filter(pk__in=mine.values("pk")).update(response_due=timezone.now() - timedelta(hours=25))
    from guanjia.notifications.tasks import run_sla_sweep

    for _ in range(SWEEPS):
        run_sla_sweep()

    response_breaches = SlaBreach.objects.filter(case__in=mine, kind=DeadlineKind.RESPONSE)
    _wait(lambda: response_breaches.count() >= 3 * CASES, "the sweeps", procs=cluster.procs)

    def settled():
        # The queue is empty and every notification was handed to e-mail/SMS by some worker.
        return cluster.storage.queue_size() == 0 and not Notification.objects.filter(delivered_at__isnull=True).exists()

    _wait(settled, "the queue to drain and every notification to be delivered", procs=cluster.procs)
    time.sleep(1)  # a task that was running when the queue emptied finishes
    _wait(settled, "the last deliveries", procs=cluster.procs)

    # Each deadline and level of each request: exactly one breach (levels 1–3 after 25 hours).
    assert response_breaches.count() == 3 * CASES
    assert Counter(response_breaches.values_list("level", flat=True)) == {1: CASES, 2: CASES, 3: CASES}
    per_case = Counter(SlaBreach.objects.values_list("case_id", "kind", "level", "round"))
    assert max(per_case.values()) == 1

    # Notifications: one per breach and person, and one per risk-flagged request and person.
    notes = Notification.objects.filter(case__in=mine)
    assert max(Counter(notes.values_list("recipient_id", "dedupe_key")).values()) == 1
    sla_notes = notes.filter(dedupe_key__startswith="sla:")
    # Level 1 → the owner; level 2 → the team lead; level 3 → the manager.
    assert sla_notes.count() == 3 * CASES
    risky = sum(1 for n in range(CASES) if n % 6 == 0)
    assert notes.filter(kind="risk_flagged").count() == 2 * risky  # the team lead and the manager

    # Every notification went out exactly once, whichever worker claimed it.
    sent = read_outbox(cluster.outbox)
    emails = Counter((m["to"][0], m["subject"], m["body"]) for m in sent if m["via"] == "email")
    texts = Counter((m["to"], m["params"]["title"]) for m in sent if m["via"] == "sms")
    rows = list(Notification.objects.select_related("recipient"))
    expected_emails = Counter(
        (n.recipient.email, n.title, "\n\n".join(filter(None, [n.body, n.link]))) for n in rows if n.by_email
    )
    expected_texts = Counter((n.recipient.phone, n.title) for n in rows if n.by_sms)
    assert max(emails.values()) == 1 and max(texts.values()) == 1
    assert emails == expected_emails
    assert texts == expected_texts

    # Both workers did part of the work.
    done = [cluster.executed(log) for log in cluster.worker_logs]
    assert all(sum(counts.values()) > 0 for counts in done), done
    assert sum(counts["guanjia.notifications.tasks.run_sla_sweep"] for counts in done) >= SWEEPS
