"""POST /hooks/gitlab/: GitLab webhook deliveries (merge request, note and push events).

GitLab authenticates a delivery only by sending the webhook's secret token in X-Gitlab-Token
(no signature over the body), compared here in constant time. A verified delivery is appended
at once as a `gitlab.webhook` entry and triggers a re-harvest of its project; its
Idempotency-Key / X-Gitlab-Event-UUID (or, lacking both, the body's hash) makes redelivery a no-op.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from evidence.core.digests import sha256_hex
from evidence.sources.webhooks.forge_common import refuse, secret_for, source_for, store_delivery
from ledger.envelope import Record


def subject_of(payload: dict[str, Any], project: str) -> str:
    kind = payload.get("object_kind")
    if kind == "merge_request":
        return f"gitlab:{project}!{(payload.get('object_attributes') or {}).get('iid')}"
    if kind == "note" and payload.get("merge_request"):
        return f"gitlab:{project}!{payload['merge_request'].get('iid')}"
    ref = payload.get("ref")
    if kind == "push" and isinstance(ref, str) and ref.startswith("refs/heads/"):
        return f"gitlab:{project}@{ref.removeprefix('refs/heads/')}"
    return f"gitlab:{project}"


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> JsonResponse:
    # Reference: https://docs.gitlab.com/user/project/integrations/webhooks/#validate-payloads-by-using-a-secret-token
    token = request.headers.get("X-Gitlab-Token", "")
    if not token:
        return refuse(401, "missing X-Gitlab-Token: configure a secret token on the webhook")
    try:
        payload = json.loads(request.body)
    except ValueError:
        payload = None
    project = ((payload or {}).get("project") or {}).get("path_with_namespace") if isinstance(payload, dict) else None
    source = source_for("gitlab", project)
    secret = secret_for(source, settings.GITLAB_WEBHOOK_TOKEN)
    if not secret:
        return refuse(403, "no webhook token is configured (GITLAB_WEBHOOK_TOKEN or the source's webhook_secret_env)")
    if not hmac.compare_digest(secret.encode(), token.encode()):
        return refuse(403, "X-Gitlab-Token does not match")
    if not isinstance(payload, dict):
        return refuse(400, "the body is not a JSON object")
    event = request.headers.get("X-Gitlab-Event", "").strip()
    delivery = (request.headers.get("Idempotency-Key") or request.headers.get("X-Gitlab-Event-UUID") or "").strip()
    key = f"gitlab:delivery:{delivery}" if delivery else f"gitlab:delivery-body:{sha256_hex(request.body)}"
    record = Record(
        kind="gitlab.webhook",
        source=source.name if source else "gitlab-webhook",
        subject=subject_of(payload, project) if project else "gitlab:webhook",
        idempotency_key=key,
        data={
            "delivery": delivery or None,
            "event": event,
            "object_kind": payload.get("object_kind"),
            "action": (payload.get("object_attributes") or {}).get("action"),
            "repository": project,
            "instance": request.headers.get("X-Gitlab-Instance"),
            "body": request.body.decode("utf-8", errors="replace"),
        },
    )
    return store_delivery(record, source, project)
