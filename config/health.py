"""Liveness and readiness for orchestrators: /healthz says the process answers; /readyz says whether
it can do its job (database, broker when configured, signing key, sequencer backlog, checkpoint age),
200 or 503 with the reason of each check. Neither needs a login and neither shows evidence."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "signing_key": check_signing_key(),
        "sequencer_backlog": check_backlog(),
        "checkpoint_age": check_checkpoint_age(),
        "checkpoint_timestamp": check_checkpoint_timestamp(),
    }
    ready = all(ok for ok, _ in checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means not ready; say which
        return False, f"cannot query the database: {type(exc).__name__}"
    return True, "reachable"


def check_broker() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "none configured: tasks run inline"
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises many kinds; the broker is down either way
        return False, f"cannot reach the broker: {type(exc).__name__}"
    return True, "reachable"


def check_signing_key() -> tuple[bool, str]:
    from ledger.keys import SigningKeyError, load_signer

    try:
        signer = load_signer()
    except SigningKeyError as exc:
        return False, str(exc)
    return True, f"key {signer.name} readable"


def check_backlog() -> tuple[bool, str]:
    from ledger.models import QueuedEntry

    limit = settings.READY_MAX_SEQUENCER_BACKLOG
    try:
        waiting = QueuedEntry.objects.count()
    except Exception as exc:  # reported by the database check too; keep the reason here
        return False, f"cannot count the queue: {type(exc).__name__}"
    if waiting > limit:
        return False, f"{waiting} entries wait for the sequencer (limit {limit})"
    return True, f"{waiting} waiting"


def check_checkpoint_age() -> tuple[bool, str]:
    """The last checkpoint must be younger than twice the interval, unless nothing is left unsigned."""
    from ledger.models import Checkpoint, Head

    try:
        head = Head.objects.filter(id=1).first()
        last = Checkpoint.objects.order_by("-size").first()
    except Exception as exc:
        return False, f"cannot read checkpoints: {type(exc).__name__}"
    size = head.size if head else 0
    if size == 0 or (last is not None and last.size >= size):
        return True, "every entry is covered by a signed checkpoint"
    if last is None:
        return False, f"{size} entries and no signed checkpoint"
    limit = timedelta(seconds=2 * settings.LEDGER_CHECKPOINT_INTERVAL)
    age = timezone.now() - last.signed_at
    if age > limit:
        seconds, allowed = int(age.total_seconds()), int(limit.total_seconds())
        return False, f"last checkpoint (size {last.size}) is {seconds} s old, over {allowed} s"
    return True, f"last checkpoint {int(age.total_seconds())} s old"


def check_checkpoint_timestamp() -> tuple[bool, str]:
    """Whether the last checkpoint carries its RFC 3161 token (LEDGER_TSA_URL).

    Never fails readiness: a TSA outage does not stop signing, and the next checkpoint asks again.
    """
    from ledger.models import Checkpoint

    if not settings.LEDGER_TSA_URL:
        return True, "no TSA configured"
    try:
        last = Checkpoint.objects.order_by("-size").values_list("size", "timestamp_token").first()
    except Exception as exc:
        return True, f"cannot read checkpoints: {type(exc).__name__}"
    if last is None:
        return True, "no checkpoint yet"
    size, token = last
    if token is None:
        return True, f"last checkpoint (size {size}) not timestamped: the TSA did not answer; signing continues"
    return True, f"last checkpoint (size {size}) timestamped"
