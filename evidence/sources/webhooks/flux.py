"""Flux notification-controller events through the `generic-hmac` provider.

notification-controller signs the body with the provider secret's `token`:
`X-Signature: sha256=<hex HMAC-SHA256 of the body>`. The event is attributed to the flux
source whose secret verifies it (`webhook_secret_env` in its config, else FLUX_WEBHOOK_TOKEN).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from evidence.core.digests import sha256_hex
from evidence.core.jsonvalues import without_floats
from evidence.core.times import parse_time
from evidence.sources.environment_rules import MappingError, place
from evidence.sources.webhooks.deliveries import (
    Refused,
    candidate_sources,
    one_source,
    parse_json,
    read_body,
    source_secret,
)
from ledger.append import append_entry
from ledger.envelope import EnvelopeError, Record


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> JsonResponse:
    try:
        return _receive(request)
    except Refused as refused:
        return refused.response()


def _receive(request: HttpRequest) -> JsonResponse:
    # Reference: https://fluxcd.io/flux/components/notification/providers/#generic-webhook-with-hmac
    header = request.headers.get("X-Signature", "")
    if not header:
        raise Refused(401, "missing X-Signature header (generic-hmac provider)")
    algorithm, _, signature = header.partition("=")
    if algorithm != "sha256" or not signature:
        raise Refused(401, "X-Signature must be 'sha256=<hex>'")
    body = read_body(request)
    matches = []
    for source in candidate_sources(request, "flux"):
        secret = source_secret(source, "webhook_secret_env", settings.FLUX_WEBHOOK_TOKEN)
        if not secret:
            continue
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, signature.strip().lower()):
            matches.append(source)
    source = one_source(matches, "flux")
    event = parse_json(body)
    involved = event.get("involvedObject")
    if not isinstance(involved, dict) or not all(involved.get(k) for k in ("kind", "name", "namespace")):
        raise Refused(400, "event needs involvedObject kind, name and namespace")
    kind, name, namespace = str(involved["kind"]), str(involved["name"]), str(involved["namespace"])
    metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    facts = {
        "name": name,
        "kind": kind,
        "namespace": namespace,
        "cluster": str(metadata.get("cluster") or source.setting("cluster") or ""),
    }
    try:
        placement = place(source, facts)
    except MappingError as exc:
        raise Refused(500, f"cannot map the object: {exc}") from None
    record = Record(
        "flux.event",
        source.name,
        f"flux:{namespace}/{kind}/{name}",
        f"flux:{source.name}:event:{sha256_hex(body)}",
        without_floats(
            {
                "environment": placement.environment,
                "application": placement.application,
                "controller": event.get("reportingController"),
                "event": event,
            }
        ),
        observed_at=datetime.now(UTC),
        occurred_at=parse_time(event.get("timestamp"), lenient=True),
    )
    try:
        appended = append_entry(record)
    except EnvelopeError as exc:
        raise Refused(400, f"event cannot be recorded: {exc}") from None
    return JsonResponse({"created": appended.created, "seq": appended.seq, "source": source.name}, status=202)
