"""Argo CD notifications webhook: `Authorization: Bearer <token>`, body from our template.

The template (docs/argocd-notifications.md) sends the Application's identity and the status
fields the harvester reads, so a delivery proves the same deployment a harvest would, and both
merge into one row. Attributed to the argocd source whose token verified it
(`webhook_token_env` in the source's config, else ARGOCD_WEBHOOK_TOKEN).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from evidence.core.digests import sha256_hex
from evidence.core.jsonvalues import without_floats
from evidence.sources.controllers.argocd import application_facts
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
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Refused(401, "missing Authorization header (Bearer token)")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "Authorization must be 'Bearer <token>'")
    token = token.strip()
    matches = []
    for source in candidate_sources(request, "argocd"):
        secret = source_secret(source, "webhook_token_env", settings.ARGOCD_WEBHOOK_TOKEN)
        if secret and hmac.compare_digest(secret.encode(), token.encode()):
            matches.append(source)
    source = one_source(matches, "argocd")
    body = read_body(request)
    delivery = parse_json(body)
    app = delivery.get("app")
    if not isinstance(app, dict) or not isinstance(app.get("metadata"), dict) or not app["metadata"].get("name"):
        raise Refused(400, "body needs app.metadata.name (see docs/argocd-notifications.md)")
    try:
        placement = place(source, application_facts(app))
    except MappingError as exc:
        raise Refused(500, f"cannot map the application: {exc}") from None
    name = str(app["metadata"]["name"])
    record = Record(
        "argocd.webhook",
        source.name,
        f"argocd:{name}",
        f"argocd:{source.name}:webhook:{sha256_hex(body)}",
        without_floats(
            {
                "environment": placement.environment,
                "application": placement.application,
                "argocd_application": name,
                "delivery": delivery,
            }
        ),
        observed_at=datetime.now(UTC),
    )
    try:
        appended = append_entry(record)
    except EnvelopeError as exc:
        raise Refused(400, f"delivery cannot be recorded: {exc}") from None
    return JsonResponse({"created": appended.created, "seq": appended.seq, "source": source.name}, status=202)
