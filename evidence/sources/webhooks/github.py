"""POST /hooks/github/: GitHub webhook deliveries, verified by X-Hub-Signature-256.

A verified delivery is appended at once as a `github.webhook` entry (the body as GitHub sent it,
so the signature can be checked again later) and triggers a re-harvest of its repository. The
delivery id (X-GitHub-Delivery) is the idempotency key: a redelivery adds nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from evidence.sources.webhooks.forge_common import refuse, secret_for, source_for, store_delivery
from ledger.envelope import Record


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    """Constant-time check of `sha256=<hex HMAC-SHA256 of the raw body>`."""
    # Reference: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


def subject_of(event: str, payload: dict[str, Any], repository: str) -> str:
    number = (payload.get("pull_request") or {}).get("number")
    if number is not None:
        return f"github:{repository}#{number}"
    ref = payload.get("ref")
    if event == "push" and isinstance(ref, str) and ref.startswith("refs/heads/"):
        return f"github:{repository}@{ref.removeprefix('refs/heads/')}"
    return f"github:{repository}"


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> JsonResponse:
    body = request.body
    header = request.headers.get("X-Hub-Signature-256", "")
    if not header:
        return refuse(401, "missing X-Hub-Signature-256: configure a secret on the webhook")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    repository = ((payload or {}).get("repository") or {}).get("full_name") if isinstance(payload, dict) else None
    source = source_for("github", repository)
    secret = secret_for(source, settings.GITHUB_WEBHOOK_SECRET)
    if not secret:
        return refuse(403, "no webhook secret is configured (GITHUB_WEBHOOK_SECRET or the source's webhook_secret_env)")
    if not signature_matches(secret, body, header):
        return refuse(403, "X-Hub-Signature-256 does not match the body")
    if not isinstance(payload, dict):
        return refuse(400, "the body is not a JSON object")
    delivery = request.headers.get("X-GitHub-Delivery", "").strip()
    event = request.headers.get("X-GitHub-Event", "").strip()
    if not delivery or not event:
        return refuse(400, "missing X-GitHub-Delivery or X-GitHub-Event")
    record = Record(
        kind="github.webhook",
        source=source.name if source else "github-webhook",
        subject=subject_of(event, payload, repository) if repository else "github:webhook",
        idempotency_key=f"github:delivery:{delivery}",
        data={
            "delivery": delivery,
            "event": event,
            "action": payload.get("action"),
            "repository": repository,
            "hook_id": request.headers.get("X-GitHub-Hook-ID"),
            "signature_256": header,
            "body": body.decode("utf-8", errors="replace"),
        },
    )
    return store_delivery(record, source, repository)
