"""`GET /healthz/`: whether this web process can serve, for load balancers and monitoring.

Answers 200 with `{"status": "ok", …}` when the primary database answers, and 503 otherwise, so a
load balancer takes the process out of rotation. The read replica and the task queue are reported
(`"replica"`, `"queue"`) but do not fail the check: taking every web process out of rotation
because Redis or the replica is down would stop the console too; alert on them instead.
No sign-in, no session, no cookies; never cached.
"""

import logging
import time

from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .db_router import REPLICA, replica_configured

logger = logging.getLogger(__name__)


def _database(alias: str) -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health check: database %s unreachable: %s", alias, exc)
        return "error"
    return "ok"


def _queue() -> str:
    from huey.contrib.djhuey import HUEY

    try:
        conn = getattr(HUEY.storage, "conn", None)
        if conn is not None and hasattr(conn, "ping"):
            conn.ping()  # Redis
        else:
            HUEY.storage.queue_size()  # SQLite or memory
    except Exception as exc:
        logger.warning("health check: task queue unreachable: %s", exc)
        return "error"
    return "ok"


@never_cache
@require_GET
def health(request):
    started = time.monotonic()
    checks = {"database": _database("default"), "queue": _queue()}
    if replica_configured():
        checks["replica"] = _database(REPLICA)
    ok = checks["database"] == "ok"
    body = {"status": "ok" if ok else "error", **checks, "ms": round(1000 * (time.monotonic() - started), 1)}
    return JsonResponse(body, status=200 if ok else 503)
