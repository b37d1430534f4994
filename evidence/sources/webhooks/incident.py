"""POST /hooks/incident/: incidents from any tool (PagerDuty, Opsgenie, a script), HMAC-signed.

The sender signs the raw body with INCIDENT_WEBHOOK_SECRET:
`X-Signature: sha256=<hex HMAC-SHA256 of the body>` (checked in constant time). The body is an
`Incident` (below, documented in docs/dora.md); a later delivery for the same `id` (resolved, a
deployment named) is a new entry, and the latest by seq stands. DORA reads these entries.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from evidence.core.digests import sha256_hex
from evidence.sources.webhooks.base import Delivery, Outcome, Receiver, Refused, Verified, sha256_signature
from evidence.sources.webhooks.payloads import Name, Payload, Time, parse_rfc3339
from ledger.envelope import Record

KIND = "incident.report"


class Incident(Payload):
    """An incident as reported: what broke, where, when, and the deployment or commit blamed if known."""

    id: Name  # the incident tool's own id (idempotency: same id and body -> nothing new)
    environment: Name
    application: Name | None = None  # the service; without it only a named deployment joins it
    started_at: Time
    resolved_at: Time | None = None  # absent while open
    deployment: Name | None = None  # a deployment identity or id, when the incident names one
    commit: Name | None = None  # the commit blamed, when known (joins the deployment that shipped it)
    title: str = ""
    url: str = ""


class IncidentReceiver(Receiver[Incident]):
    model = Incident
    name = "incident"

    def verify(self, request: HttpRequest, body: bytes, payload: dict[str, Any] | None) -> Verified:
        signature = sha256_signature(request, "missing X-Signature header: sign the body with HMAC-SHA256")
        secret = settings.INCIDENT_WEBHOOK_SECRET
        if not secret:
            raise Refused(403, "no incident webhook secret is configured (INCIDENT_WEBHOOK_SECRET)")
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise Refused(403, "X-Signature does not match the body")
        return Verified(None, "hmac-sha256", "X-Signature", "INCIDENT_WEBHOOK_SECRET")

    def record(self, delivery: Delivery[Incident]) -> Outcome:
        incident = delivery.event
        started = parse_rfc3339(incident.started_at)
        resolved = parse_rfc3339(incident.resolved_at) if incident.resolved_at else None
        if resolved is not None and resolved < started:
            raise Refused(400, "resolved_at: must not be before started_at")
        record = Record(
            KIND,
            "incident-webhook",
            f"incident:{incident.id}",
            f"incident:{incident.id}:{sha256_hex(delivery.text.encode())}",
            {
                "incident": incident.model_dump(),
                "verification": delivery.verified.fact(),
                "body": delivery.text,
            },
            observed_at=datetime.now(UTC),
            occurred_at=started,
        )
        return Outcome(record)


receive = IncidentReceiver().view()
