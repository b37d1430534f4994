"""POST /hooks/github/: GitHub webhook deliveries, verified by X-Hub-Signature-256.

A verified delivery is appended at once as a `github.webhook` entry (the body exactly as GitHub
sent it, and which secret verified its signature) and triggers a re-harvest of its repository.
The delivery id (X-GitHub-Delivery) is the idempotency key: a redelivery adds nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.http import HttpRequest

from evidence.sources.webhooks.base import (
    Delivery,
    Outcome,
    Receiver,
    Refused,
    Verified,
    credential,
    forge_source,
    header,
    secret_of,
    text_at,
)
from evidence.sources.webhooks.payloads import Name, Payload
from ledger.envelope import Record


class Repository(Payload):
    full_name: Name | None = None


class PullRequest(Payload):
    number: int | None = None


class GitHubEvent(Payload):
    """What we use of any event: https://docs.github.com/en/webhooks/webhook-events-and-payloads"""

    action: str | None = None
    ref: Name | None = None
    repository: Repository | None = None
    pull_request: PullRequest | None = None


def signature_matches(secret: str, body: bytes, signature: str) -> bool:
    """Constant-time check of `sha256=<hex HMAC-SHA256 of the raw body>`."""
    # Reference: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


def subject_of(event: str, payload: GitHubEvent, repository: str) -> str:
    number = payload.pull_request.number if payload.pull_request else None
    if number is not None:
        return f"github:{repository}#{number}"
    ref = payload.ref
    if event == "push" and ref is not None and ref.startswith("refs/heads/"):
        return f"github:{repository}@{ref.removeprefix('refs/heads/')}"
    return f"github:{repository}"


class GitHubReceiver(Receiver[GitHubEvent]):
    model = GitHubEvent
    name = "github"

    def verify(self, request: HttpRequest, body: bytes, payload: dict[str, Any] | None) -> Verified:
        signature = credential(
            request, "X-Hub-Signature-256", "missing X-Hub-Signature-256: configure a secret on the webhook"
        )
        source = forge_source("github", text_at(payload, "repository", "full_name"))
        secret = secret_of(source, "webhook_secret_env", "GITHUB_WEBHOOK_SECRET")
        if not secret.value:
            raise Refused(
                403, "no webhook secret is configured (GITHUB_WEBHOOK_SECRET or the source's webhook_secret_env)"
            )
        if not signature_matches(secret.value, body, signature):
            raise Refused(403, "X-Hub-Signature-256 does not match the body")
        return Verified(source, "hmac-sha256", "X-Hub-Signature-256", secret.env)

    def record(self, delivery: Delivery[GitHubEvent]) -> Outcome:
        request, event = delivery.request, delivery.event
        delivery_id = header(request, "X-GitHub-Delivery")
        name = header(request, "X-GitHub-Event")
        if not delivery_id or not name:
            raise Refused(400, "missing X-GitHub-Delivery or X-GitHub-Event")
        repository = event.repository.full_name if event.repository else None
        source = delivery.verified.source
        record = Record(
            kind="github.webhook",
            source=source.name if source else "github-webhook",
            subject=subject_of(name, event, repository) if repository else "github:webhook",
            idempotency_key=f"github:delivery:{delivery_id}",  # GitHub's id of the delivery, never the signature
            data={
                "delivery": delivery_id,
                "event": name,
                "action": event.action,
                "repository": repository,
                "hook_id": header(request, "X-GitHub-Hook-ID"),
                "verification": delivery.verified.fact(),
                "body": delivery.text,
            },
        )
        return Outcome(record, reharvest=repository)


receive = GitHubReceiver().view()
