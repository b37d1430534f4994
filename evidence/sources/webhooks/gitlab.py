"""POST /hooks/gitlab/: GitLab webhook deliveries (merge request, note and push events).

GitLab authenticates a delivery only by sending the webhook's secret token in X-Gitlab-Token
(no signature over the body), compared here in constant time. A verified delivery is appended
at once as a `gitlab.webhook` entry and triggers a re-harvest of its project; its
Idempotency-Key / X-Gitlab-Event-UUID (or, lacking both, the body's hash) makes redelivery a no-op.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest

from evidence.core.digests import sha256_hex
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


class Project(Payload):
    path_with_namespace: Name | None = None


class ObjectAttributes(Payload):
    iid: int | None = None
    action: str | None = None


class MergeRequestRef(Payload):
    iid: int | None = None


class GitLabEvent(Payload):
    """What we use of any event: https://docs.gitlab.com/user/project/integrations/webhook_events/"""

    object_kind: str | None = None
    ref: Name | None = None
    project: Project | None = None
    object_attributes: ObjectAttributes | None = None
    merge_request: MergeRequestRef | None = None


def subject_of(event: GitLabEvent, payload: dict[str, Any], project: str) -> str:
    kind = event.object_kind
    if kind == "merge_request":
        return f"gitlab:{project}!{event.object_attributes.iid if event.object_attributes else None}"
    if kind == "note" and event.merge_request is not None and payload.get("merge_request"):
        return f"gitlab:{project}!{event.merge_request.iid}"
    ref = event.ref
    if kind == "push" and ref is not None and ref.startswith("refs/heads/"):
        return f"gitlab:{project}@{ref.removeprefix('refs/heads/')}"
    return f"gitlab:{project}"


class GitLabReceiver(Receiver[GitLabEvent]):
    model = GitLabEvent
    name = "gitlab"

    def verify(self, request: HttpRequest, body: bytes, payload: dict[str, Any] | None) -> Verified:
        # Reference: https://docs.gitlab.com/user/project/integrations/webhooks/#validate-payloads-by-using-a-secret-token
        token = credential(request, "X-Gitlab-Token", "missing X-Gitlab-Token: configure a secret token on the webhook")
        source = forge_source("gitlab", text_at(payload, "project", "path_with_namespace"))
        secret = secret_of(source, "webhook_secret_env", "GITLAB_WEBHOOK_TOKEN")
        if not secret.value:
            raise Refused(
                403, "no webhook token is configured (GITLAB_WEBHOOK_TOKEN or the source's webhook_secret_env)"
            )
        if not hmac.compare_digest(secret.value.encode(), token.encode()):
            raise Refused(403, "X-Gitlab-Token does not match")
        return Verified(source, "token", "X-Gitlab-Token", secret.env)

    def record(self, delivery: Delivery[GitLabEvent]) -> Outcome:
        request, event = delivery.request, delivery.event
        uuid = header(request, "Idempotency-Key") or header(request, "X-Gitlab-Event-UUID")
        key = (
            f"gitlab:delivery:{uuid}"
            if uuid
            else f"gitlab:delivery-body:{sha256_hex(delivery.text.encode())}"  # = the body's bytes
        )
        project = event.project.path_with_namespace if event.project else None
        source = delivery.verified.source
        record = Record(
            kind="gitlab.webhook",
            source=source.name if source else "gitlab-webhook",
            subject=subject_of(event, delivery.parsed, project) if project else "gitlab:webhook",
            idempotency_key=key,
            data={
                "delivery": uuid,
                "event": header(request, "X-Gitlab-Event") or "",
                "object_kind": event.object_kind,
                "action": event.object_attributes.action if event.object_attributes else None,
                "repository": project,
                "instance": header(request, "X-Gitlab-Instance"),
                "verification": delivery.verified.fact(),
                "body": delivery.text,
            },
        )
        return Outcome(record, reharvest=project)


receive = GitLabReceiver().view()
