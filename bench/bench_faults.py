"""Intake under faults: two web processes and two workers, killed and restarted while requests come in.

    .venv/bin/python bench/bench_faults.py                     # 60 s, scratch database bench_faults
    .venv/bin/python bench/bench_faults.py --duration 120 --api-clients 8 --portal-clients 4

Needs PostgreSQL and Redis on this machine (--pg, --redis). The scenario:

1. drops and creates the scratch database (--db, default bench_faults; names that are not
   bench_… and the databases test, bench_cases and postgres are refused), migrates it and adds a
   small organisation (the test suite's `build_world`), staff with e-mail and phone, owners
   with portal accounts bound to their units, and an API token;
2. starts two gunicorn web processes (own ports) and --workers Huey consumers (`guanjia
   worker`) on its own Redis database and queue name, with e-mail and SMS written to an outbox
   file (guanjia.core.tests.outbox) so that every message sent can be counted;
3. for --duration seconds records requests through the API (threads, a unique Idempotency-Key
   each, received two days ago so every SLA deadline is already missed, every tenth flagged
   major) and through the owner portal (/m/: sign-in with the SMS code from the outbox, then
   the report form with its idempotency key), alternating between the two web processes; a
   request that fails with a connection error or a 5xx is retried with the same key (on the
   other process) until it is acknowledged; meanwhile an SLA sweep is queued every 2 s;
4. injects faults: SIGKILL of a worker at 20 % and 70 % of the time (restarted a second
   later), SIGKILL of the second web process at 45 % (restarted at once);
5. lets the queue drain, then checks every acknowledged request exists exactly once under its
   key with the number that was acknowledged, that no request number, SLA breach (case,
   deadline, level, round) or notification (recipient, key) is recorded twice, and that no
   e-mail or text message was sent twice.

Prints one JSON object: requests, acknowledged, errors by kind, faults injected, cases checked,
duplicates found, and what was lost (acknowledged but missing: must be 0; notifications claimed
by a worker that was killed before it sent them: at most once, so these are not resent).
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
BIN = Path(sys.executable).parent
REFUSED = {"test", "bench_cases", "postgres", "template0", "template1"}


_T0 = time.monotonic()


def say(line: str) -> None:
    print(f"[{time.monotonic() - _T0:6.1f} s] {line}", file=sys.stderr, flush=True)


def machine() -> dict:
    return {"nproc": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()[0]}


# --- the scratch database --------------------------------------------------------------------------


def recreate_database(pg: str, name: str) -> str:
    if name in REFUSED or not re.fullmatch(r"bench_[a-z0-9_]+", name):
        raise SystemExit(f"refusing to drop database {name!r}: use a bench_… name")
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg}/{name}"


def setup_data(portal_clients: int) -> dict:
    """The organisation, the people notified, the owners of the portal and the API token."""
    from datetime import date

    from guanjia.core.models import ApiToken
    from guanjia.estate.choices import OccupancyRole
    from guanjia.estate.models import Occupancy
    from guanjia.org.choices import Role, ScopeLevel
    from guanjia.portal.choices import BindingMethod, BindingStatus, Relation
    from guanjia.portal.models import PortalAccount, UnitBinding
    from guanjia.testing import build_world, make_party, make_staff, make_unit

    w = build_world()
    for staff, n in ((w.specialist, 1), (w.butler, 2), (w.manager, 3)):
        staff.email, staff.phone = f"{staff.username}@example.com", f"1380000000{n}"
        staff.save(update_fields=["email", "phone"])
    make_staff(
        "banzhang",
        Role.TEAM_LEAD,
        ScopeLevel.PROJECT,
        project=w.project,
        email="banzhang@example.com",
        phone="13800000004",
    )
    owners = [(w.owner_a, w.unit_a), (w.owner_b, w.unit_b)]
    for n in range(len(owners), portal_clients):
        unit = make_unit(w.b3, w.e32, 10 + n, f"{10 + n}02")
        party = make_party(f"业主{n}", w.project, f"1390000{n:04d}")
        Occupancy.objects.create(party=party, unit=unit, role=OccupancyRole.OWNER, start=date(2024, 1, 1))
        owners.append((party, unit))
    portal = []
    for party, unit in owners[:portal_clients]:
        account = PortalAccount.objects.create(phone=party.phone)
        binding = UnitBinding.objects.create(
            account=account,
            unit=unit,
            party=party,
            status=BindingStatus.ACTIVE,
            method=BindingMethod.IDENTITY,
            claimed_name=party.name,
            relation=Relation.OWNER,
        )
        portal.append({"phone": party.phone, "account": account.pk, "binding": binding.pk})
    _, token = ApiToken.issue(w.specialist, "bench faults")
    return {
        "token": token,
        "api_user": w.specialist.pk,
        "project": w.project.pk,
        "households": [(w.unit_a.pk, w.owner_a.pk), (w.unit_b.pk, w.owner_b.pk)],
        "portal": portal,
    }


# --- processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """One server or worker process, in its own process group so that a kill takes its children too."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as handle:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )

    def running_tasks(self) -> list[str]:
        """Tasks this run of the worker has started and not finished, from its log."""
        with self.log.open("rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode(errors="replace")
        started = {task_id: name for name, task_id in re.findall(r"Executing ([\w.]+): ([0-9a-f-]{36})", text)}
        for task_id in re.findall(r"([0-9a-f-]{36}) executed in", text):
            started.pop(task_id, None)
        for task_id in re.findall(r"Unhandled exception in task ([0-9a-f-]{36})", text):
            started.pop(task_id, None)
        return sorted(started.values())

    def kill(self) -> None:
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def web_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
            return r.status == 200
    except (OSError, http.client.HTTPException):
        return False


def wait_for(predicate, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}")


# --- clients ---------------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"http_{exc.code}"
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, http.client.RemoteDisconnected):  # a ConnectionResetError too
        return "remote_disconnected"
    if isinstance(reason, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(reason, ConnectionResetError):
        return "connection_reset"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timeout"
    return type(reason).__name__


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = Counter()
        self.errors = Counter()
        self.retried_keys = 0
        self.api_acks: dict[str, tuple[int, str]] = {}  # key → (status, number)
        self.portal_acks: dict[str, tuple[int, int]] = {}  # "account:key" → (account, case id)
        self.given_up: list[str] = []

    def count(self, kind: str, error: str | None = None) -> None:
        with self.lock:
            self.requests[kind] += 1
            if error:
                self.errors[error] += 1


RETRYABLE = ("connection_", "remote_disconnected", "timeout", "http_5", "BadStatusLine", "IncompleteRead")


def retrying(stats: Stats, kind: str, ports: list[int], first: int, attempt, give_up_after: float = 60):
    """Call attempt(port) until it returns a result; connection errors and 5xx are retried on the
    other port with the same key, a 4xx is final. Returns the result or None."""
    started, n = time.monotonic(), first
    retried = False
    while time.monotonic() - started < give_up_after:
        port = ports[n % len(ports)]
        try:
            result = attempt(port)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            kind_of = error_kind(exc)
            stats.count(kind, kind_of)
            if not kind_of.startswith(RETRYABLE):
                return None
            retried = True
            n += 1
            time.sleep(0.2)
            continue
        stats.count(kind)
        if retried:
            with stats.lock:
                stats.retried_keys += 1
        return result
    return None


def api_client(tid: int, stop: threading.Event, stats: Stats, ports: list[int], data: dict, run: str) -> None:
    from datetime import datetime

    n = 0
    while not stop.is_set():
        n += 1
        key = f"faults-{run}-api-{tid}-{n}"
        unit, party = data["households"][(tid + n) % len(data["households"])]
        received = (datetime.now().astimezone() - timedelta(days=2)).isoformat(timespec="seconds")
        body = json.dumps(
            {
                "type": "repair",
                "channel": "hotline",
                "project": data["project"],
                "units": [unit],
                "party": party,
                "description": f"卫生间漏水，楼下天花板渗水（{tid}-{n}）",
                "received_at": received,
                "risk_major": n % 10 == 0,
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {data['token']}",
            "Idempotency-Key": key,
        }

        def attempt(port, body=body, headers=headers):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/cases", data=body, headers=headers, method="POST"
            )
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read())["number"]

        result = retrying(stats, "api", ports, tid + n, attempt)
        with stats.lock:
            if result is None:
                stats.given_up.append(key)
            else:
                stats.api_acks[key] = result


def _outbox_code(outbox: Path, phone: str, after: int) -> str | None:
    from guanjia.core.tests.outbox import read_outbox

    for message in read_outbox(outbox)[after:]:
        if message["via"] == "sms" and message["to"] == phone and message["template"] == "portal_sign_in_code":
            return message["params"]["code"]
    return None


def portal_client(
    tid: int, stop: threading.Event, stats: Stats, ports: list[int], owner: dict, run: str, outbox: Path
) -> None:
    """Sign in by SMS code, then report requests through the portal form until told to stop."""
    from guanjia.core.tests.outbox import read_outbox

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def csrf() -> str:
        return next((c.value for c in jar if c.name == "csrftoken"), "")

    def post(port: int, path: str, fields: dict) -> tuple[int, str]:
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf(), **fields}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST")
        request.add_header("Referer", f"http://127.0.0.1:{port}{path}")
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, ""
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303):
                return exc.code, exc.headers.get("Location", "")
            raise

    def sign_in(port: int) -> bool:
        with opener.open(f"http://127.0.0.1:{port}/m/sign-in/", timeout=30) as response:
            response.read()
        seen = len(read_outbox(outbox))
        post(port, "/m/sign-in/", {"action": "send", "phone": owner["phone"]})
        code = None
        for _ in range(50):
            code = _outbox_code(outbox, owner["phone"], seen)
            if code:
                break
            time.sleep(0.1)
        if not code:
            return False
        status, location = post(port, "/m/sign-in/", {"action": "verify", "phone": owner["phone"], "code": code})
        return status == 302 and location.rstrip("/").endswith("/m")

    signed = retrying(stats, "portal_sign_in", ports, tid, sign_in)
    if not signed:
        with stats.lock:
            stats.errors["portal_sign_in_failed"] += 1
        return
    n = 0
    while not stop.is_set():
        n += 1
        key = f"{run}-{tid}-{n}"
        fields = {
            "binding": owner["binding"],
            "case_type": "repair",
            "category": "",
            "description": f"厨房水管漏水，水表一直在转（业主端 {tid}-{n}）",
            "idempotency_key": key,
        }

        def attempt(port, fields=fields):
            status, location = post(port, "/m/requests/new/", fields)
            match = re.search(r"/m/requests/(\d+)/", location)
            if status != 302 or not match:
                if "/m/sign-in/" in location:
                    raise urllib.error.URLError(PermissionError("signed out"))
                raise urllib.error.URLError(ValueError(f"form answered {status}"))
            return int(match.group(1))

        case_id = retrying(stats, "portal", ports, tid + n, attempt)
        with stats.lock:
            if case_id is None:
                stats.given_up.append(f"portal:{owner['account']}:{key}")
            else:
                stats.portal_acks[f"{owner['account']}:{key}"] = (owner["account"], case_id)


# --- checks ----------------------------------------------------------------------------------------


def check(stats: Stats, data: dict, run: str, outbox: Path) -> dict:
    from django.db.models import Count

    from guanjia.cases.models import Case
    from guanjia.core.tests.outbox import read_outbox
    from guanjia.notifications.models import Notification, SlaBreach

    rows = list(
        Case.objects.filter(owner_id=data["api_user"], intake_key__startswith=f"faults-{run}-").values_list(
            "intake_key", "number"
        )
    )
    per_key = Counter(key for key, _ in rows)
    api_cases = {key: (per_key[key], number) for key, number in rows}
    missing = [k for k in stats.api_acks if k not in api_cases]
    doubled = [k for k, (n, _) in api_cases.items() if n > 1]
    wrong_number = [k for k, (_, number) in stats.api_acks.items() if k in api_cases and api_cases[k][1] != number]
    portal_rows = Counter(
        Case.objects.filter(intake_key__startswith="portal:", intake_key__contains=f":{run}-").values_list(
            "intake_key", "pk"
        )
    )
    portal_by_key: dict[str, list[int]] = {}
    for (intake_key, pk), _n in portal_rows.items():
        portal_by_key.setdefault(intake_key.removeprefix("portal:"), []).append(pk)
    portal_missing = [k for k, (_, pk) in stats.portal_acks.items() if portal_by_key.get(k) != [pk]]
    portal_doubled = [k for k, pks in portal_by_key.items() if len(pks) > 1]
    unacknowledged = (len(api_cases) - len([k for k in api_cases if k in stats.api_acks])) + (
        len(portal_by_key) - len([k for k in portal_by_key if k in stats.portal_acks])
    )

    numbers = Case.objects.values("number").annotate(n=Count("pk")).filter(n__gt=1).count()
    breaches = SlaBreach.objects.values("case_id", "kind", "level", "round").annotate(n=Count("pk")).filter(n__gt=1)
    notes = Notification.objects.values("recipient_id", "dedupe_key").annotate(n=Count("pk")).filter(n__gt=1)

    rows = list(Notification.objects.select_related("recipient"))
    expected = Counter()
    for n in rows:
        if n.delivered_at is None:
            continue
        if n.by_email and n.recipient.email:
            expected[("email", n.recipient.email, n.title, "\n\n".join(filter(None, [n.body, n.link])))] += 1
        if n.by_sms and n.recipient.phone:
            expected[("sms", n.recipient.phone, n.title)] += 1
    sent = Counter()
    for m in read_outbox(outbox):
        if m["via"] == "email":
            sent[("email", m["to"][0], m["subject"], m["body"])] += 1
        elif m["template"] != "portal_sign_in_code":
            sent[("sms", m["to"], m["params"].get("title", ""))] += 1
    sent_twice = sum(max(0, sent[k] - expected[k]) for k in sent)
    claimed_not_sent = sum(max(0, expected[k] - sent[k]) for k in expected)

    return {
        "cases_checked": len(stats.api_acks) + len(stats.portal_acks),
        "cases_in_db": {"api": len(api_cases), "portal": len(portal_by_key)},
        "recorded_not_acknowledged": unacknowledged,
        "duplicates": {
            "cases_by_key": len(doubled) + len(portal_doubled),
            "case_numbers": numbers,
            "sla_breaches": breaches.count(),
            "notifications": notes.count(),
            "messages_sent_twice": sent_twice,
        },
        "lost": {
            "acknowledged_missing": len(missing) + len(portal_missing),
            "acknowledged_wrong_number": len(wrong_number),
            "notifications_claimed_not_sent": claimed_not_sent,
            "notifications_never_claimed": Notification.objects.filter(delivered_at__isnull=True).count(),
        },
        "sla_breaches": SlaBreach.objects.count(),
        "notifications": len(rows),
        "messages_sent": sum(sent.values()),
        "examples": {"missing": (missing + portal_missing)[:5], "doubled": (doubled + portal_doubled)[:5]},
    }


# --- main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--api-clients", type=int, default=6)
    parser.add_argument("--portal-clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, choices=(1, 2))
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers per web process")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="bench_faults")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13"))
    args = parser.parse_args()

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    outbox = work / "outbox.jsonl"
    huey_name = f"bench-faults-{uuid.uuid4().hex[:8]}"
    database_url = recreate_database(args.pg.rstrip("/"), args.db)
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=args.redis,
        HUEY_NAME=huey_name,
        DJANGO_SETTINGS_MODULE="guanjia.core.tests.multiprocess_settings",
        GUANJIA_VAR_DIR=str(work / "var"),
        GUANJIA_SECURE="0",
        DEBUG="false",
        GUANJIA_TEST_OUTBOX=str(outbox),
        PYTHONPATH=str(ROOT / "src"),
    )
    os.environ.update(env)
    say(f"migrating {database_url} …")
    subprocess.run([sys.executable, "-m", "guanjia", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from django.db import close_old_connections
    from huey.contrib.djhuey import HUEY

    from guanjia.notifications.tasks import run_sla_sweep

    data = setup_data(args.portal_clients)
    close_old_connections()
    HUEY.storage.flush_queue()

    ports = [free_port(), free_port()]
    server_options = ("--workers", str(args.web_workers), "--threads", "4", "--timeout", "60")
    webs = [
        Proc(
            f"web-{port}",
            [str(BIN / "gunicorn"), "guanjia.wsgi:application", "--bind", f"127.0.0.1:{port}", *server_options],
            env,
            work,
        )
        for port in ports
    ]
    workers = [
        Proc(f"worker-{n + 1}", [sys.executable, "-m", "guanjia", "run_huey", "--workers", "2"], env, work)
        for n in range(args.workers)
    ]
    for proc in webs + workers:
        proc.start()
    for port in ports:
        wait_for(lambda port=port: web_up(port), f"web process on :{port}")
    for proc in workers:
        wait_for(lambda proc=proc: "consumer started" in proc.log.read_text(), proc.name)
    say(f"web processes on {ports}, {len(workers)} workers, queue {huey_name}; load for {args.duration:.0f} s")

    run = uuid.uuid4().hex[:8]
    stats, stop = Stats(), threading.Event()
    threads = [
        threading.Thread(target=api_client, args=(t, stop, stats, ports, data, run), daemon=True)
        for t in range(args.api_clients)
    ] + [
        threading.Thread(target=portal_client, args=(t, stop, stats, ports, owner, run, outbox), daemon=True)
        for t, owner in enumerate(data["portal"])
    ]
    faults = []
    plan = [
        (0.20, "kill_worker", workers[0]),
        (0.45, "kill_web", webs[1]),
        (0.70, "kill_worker", workers[-1]),
    ]
    t0 = time.monotonic()
    for thread in threads:
        thread.start()
    sweeps = 0
    next_sweep = t0
    while (elapsed := time.monotonic() - t0) < args.duration:
        if plan and elapsed >= plan[0][0] * args.duration:
            _share, kind, proc = plan.pop(0)
            interrupted = []
            if kind == "kill_worker":
                # Kill it in the middle of a task when one comes along within 5 s.
                wait_until = time.monotonic() + 5
                while not (interrupted := proc.running_tasks()) and time.monotonic() < wait_until:
                    time.sleep(0.02)
            at = round(time.monotonic() - t0, 1)
            proc.kill()
            if kind == "kill_worker":
                time.sleep(1)
            proc.start()
            faults.append({"at_s": at, "fault": f"SIGKILL {proc.name}", "restarted": True, "interrupted": interrupted})
            say(f"{at} s: killed and restarted {proc.name} {interrupted or ''}")
        if time.monotonic() >= next_sweep:
            run_sla_sweep()
            sweeps += 1
            next_sweep += 2
        time.sleep(0.1)
    stop.set()
    load_s = time.monotonic() - t0
    say("load over; finishing retries …")
    for thread in threads:
        thread.join(timeout=90)
    run_sla_sweep()
    sweeps += 1

    from guanjia.notifications.models import Notification

    def settled() -> bool:
        return HUEY.storage.queue_size() == 0 and not Notification.objects.filter(delivered_at__isnull=True).exists()

    try:
        wait_for(settled, "the queue to drain", timeout=120)
        time.sleep(2)
        wait_for(settled, "the last tasks", timeout=60)
    finally:
        for proc in webs + workers:
            proc.stop()
    executed = Counter()
    for proc in workers:
        executed.update(re.findall(r"Executing (guanjia\.[\w.]+)", proc.log.read_text()))
    result = check(stats, data, run, outbox)
    HUEY.storage.flush_all()
    print(
        json.dumps(
            {
                "scenario": "faults",
                "duration_s": round(load_s, 1),
                "web_processes": len(webs),
                "workers": len(workers),
                "clients": {"api": args.api_clients, "portal": len(data["portal"])},
                "requests": sum(stats.requests.values()),
                "requests_by_kind": dict(stats.requests),
                "acknowledged": {"api": len(stats.api_acks), "portal": len(stats.portal_acks)},
                "acknowledged_after_retry": stats.retried_keys,
                "given_up": len(stats.given_up),
                "errors": dict(stats.errors),
                "faults": faults,
                "sweeps_queued": sweeps,
                "tasks_executed": dict(executed),
                **result,
                "db": args.db,
                "logs": str(work),
                "total_s": round(time.monotonic() - started, 1),
                "machine": machine(),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
