"""Flux notification-controller events through the `generic-hmac` provider.

notification-controller signs the body with the provider secret's `token`:
`X-Signature: sha256=<hex HMAC-SHA256 of the body>`. The event is attributed to the flux
source whose secret verifies it (`webhook_secret_env` in its config, else FLUX_WEBHOOK_TOKEN).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from evidence.core.digests import sha256_hex
from evidence.sources.environment_rules import MappingError, place
from evidence.sources.webhooks.base import (
    Delivery,
    Outcome,
    Receiver,
    Refused,
    Verified,
    candidate_sources,
    one_source,
    secret_of,
    sha256_signature,
)
from evidence.sources.webhooks.payloads import CamelPayload, Name, Time, parse_rfc3339
from ledger.envelope import Record


class InvolvedObject(CamelPayload):
    kind: Name
    name: Name
    namespace: Name


class Event(CamelPayload):
    """An event as notification-controller POSTs it (metadata is a map of strings)."""

    # Reference: https://fluxcd.io/flux/components/notification/events/#event-structure
    involved_object: InvolvedObject
    metadata: dict[str, str] | None = None
    severity: str | None = None
    reason: str | None = None
    message: str | None = None
    reporting_controller: str | None = None
    timestamp: Time | None = None


class FluxReceiver(Receiver[Event]):
    model = Event
    name = "flux"

    def verify(self, request: HttpRequest, body: bytes, payload: dict[str, Any] | None) -> Verified:
        # Reference: https://fluxcd.io/flux/components/notification/providers/#generic-webhook-with-hmac
        signature = sha256_signature(request, "missing X-Signature header (generic-hmac provider)")
        matches = []
        for source in candidate_sources(request, "flux"):
            secret = secret_of(source, "webhook_secret_env", "FLUX_WEBHOOK_TOKEN")
            if not secret.value:
                continue
            expected = hmac.new(secret.value.encode(), body, hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, signature):
                matches.append((source, secret.env))
        source, env = one_source(matches, "flux")
        return Verified(source, "hmac-sha256", "X-Signature", env)

    def record(self, delivery: Delivery[Event]) -> Outcome:
        event, source = delivery.event, delivery.verified.source
        if source is None:  # verify() always names the source whose secret it was
            raise Refused(403, "signature or token not accepted")
        involved = event.involved_object
        kind, name, namespace = involved.kind, involved.name, involved.namespace
        facts = {
            "name": name,
            "kind": kind,
            "namespace": namespace,
            "cluster": str((event.metadata or {}).get("cluster") or source.setting("cluster") or ""),
        }
        try:
            placement = place(source, facts)
        except MappingError as exc:
            raise Refused(500, f"cannot map the object: {exc}") from None
        body = delivery.text.encode()
        record = Record(
            "flux.event",
            source.name,
            f"flux:{namespace}/{kind}/{name}",
            f"flux:{source.name}:event:{sha256_hex(body)}",
            {
                "environment": placement.environment,
                "application": placement.application,
                "controller": event.reporting_controller,
                "verification": delivery.verified.fact(),
                "event": delivery.payload,
            },
            observed_at=datetime.now(UTC),
            occurred_at=parse_rfc3339(event.timestamp) if event.timestamp else None,
        )
        return Outcome(record)


receive = FluxReceiver().view()
