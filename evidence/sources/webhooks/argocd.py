"""Argo CD notifications webhook: `Authorization: Bearer <token>`, body from our template.

The template (docs/argocd-notifications.md) sends the Application's identity and the status
fields the harvester reads, so a delivery proves the same deployment a harvest would, and both
merge into one row. Attributed to the argocd source whose token verified it
(`webhook_token_env` in the source's config, else ARGOCD_WEBHOOK_TOKEN).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from evidence.core.digests import sha256_hex
from evidence.sources.controllers.argocd import application_facts
from evidence.sources.environment_rules import MappingError, place
from evidence.sources.webhooks.base import (
    Delivery,
    Outcome,
    Receiver,
    Refused,
    Verified,
    candidate_sources,
    credential,
    one_source,
    secret_of,
)
from evidence.sources.webhooks.payloads import CamelPayload, Name, Time
from ledger.envelope import Record


class Metadata(CamelPayload):
    name: Name | None = None
    namespace: str | None = None
    uid: str | None = None


class Destination(CamelPayload):
    namespace: str | None = None
    name: str | None = None
    server: str | None = None


class Spec(CamelPayload):
    project: str | None = None
    destination: Destination | None = None


class InitiatedBy(CamelPayload):
    username: str | None = None
    automated: bool | None = None


class HistoryItem(CamelPayload):
    id: int | None = None
    revision: str | None = None
    revisions: list[str] | None = None
    deployed_at: Time | None = None
    deploy_started_at: Time | None = None
    initiated_by: InitiatedBy | None = None


class SyncResult(CamelPayload):
    revision: str | None = None
    revisions: list[str] | None = None


class SyncRequest(CamelPayload):
    revision: str | None = None


class Operation(CamelPayload):
    sync: SyncRequest | None = None
    initiated_by: InitiatedBy | None = None


class OperationState(CamelPayload):
    phase: str | None = None
    message: str | None = None
    started_at: Time | None = None
    finished_at: Time | None = None
    sync_result: SyncResult | None = None
    operation: Operation | None = None


class Health(CamelPayload):
    status: str | None = None


class Summary(CamelPayload):
    images: list[str] | None = None


class Status(CamelPayload):
    history: list[HistoryItem] | None = None
    operation_state: OperationState | None = None
    sync: dict[str, Any] | None = None
    health: Health | None = None
    summary: Summary | None = None


class Application(CamelPayload):
    metadata: Metadata | None = None
    spec: Spec | None = None
    status: Status | None = None


class Notification(CamelPayload):
    """The body our template renders; the Application's fields as Argo CD's API types them."""

    # Reference: https://argo-cd.readthedocs.io/en/stable/operator-manual/notifications/services/webhook/
    app: Application | None = None


class ArgoCDReceiver(Receiver[Notification]):
    model = Notification
    name = "argocd"

    def verify(self, request: HttpRequest, body: bytes, payload: dict[str, Any] | None) -> Verified:
        header = credential(request, "Authorization", "missing Authorization header (Bearer token)")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "Authorization must be 'Bearer <token>'")
        matches = []
        for source in candidate_sources(request, "argocd"):
            secret = secret_of(source, "webhook_token_env", "ARGOCD_WEBHOOK_TOKEN")
            if secret.value and hmac.compare_digest(secret.value.encode(), token.encode()):
                matches.append((source, secret.env))
        source, env = one_source(matches, "argocd")
        return Verified(source, "token", "Authorization", env)

    def record(self, delivery: Delivery[Notification]) -> Outcome:
        app = delivery.event.app
        name = app.metadata.name if app and app.metadata else None
        if app is None or name is None:
            raise Refused(400, "app.metadata.name: is required (see docs/argocd-notifications.md)")
        source = delivery.verified.source
        if source is None:  # verify() always names the source whose token it was
            raise Refused(403, "signature or token not accepted")
        try:
            placement = place(source, application_facts(delivery.payload["app"]))
        except MappingError as exc:
            raise Refused(500, f"cannot map the application: {exc}") from None
        body = delivery.text.encode()
        record = Record(
            "argocd.webhook",
            source.name,
            f"argocd:{name}",
            f"argocd:{source.name}:webhook:{sha256_hex(body)}",
            {
                "environment": placement.environment,
                "application": placement.application,
                "argocd_application": name,
                "verification": delivery.verified.fact(),
                "delivery": delivery.payload,
            },
            observed_at=datetime.now(UTC),
        )
        return Outcome(record)


receive = ArgoCDReceiver().view()
