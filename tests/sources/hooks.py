"""Helpers for the webhook tests: a valid delivery of each receiver, and a way to send any body
with the right, a wrong or no credential (the sources are in conftest.py).

Bodies are in each sender's shape with our own values (see /hooks/ in the README and
docs/argocd-notifications.md).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any

from ledger.models import Entry, QueuedEntry

RECEIVERS = ("github", "gitlab", "argocd", "flux")
REPO = "acme/payments"
PROJECT = "acme/platform/shop"
GITHUB_SECRET = "whsec-hooks-github"
GITLAB_TOKEN = "gitlab-hooks-token"
ARGOCD_TOKEN = "argocd-hooks-token"
FLUX_SECRET = "flux-hooks-secret"

VALID: dict[str, dict[str, Any]] = {
    "github": {
        "action": "submitted",
        "review": {"id": 8801, "state": "approved", "commit_id": "9" * 40, "submitted_at": "2026-03-01T11:50:00Z"},
        "pull_request": {"number": 3, "state": "open", "head": {"ref": "feature/3", "sha": "9" * 40}},
        "repository": {"id": 1, "name": "payments", "full_name": REPO, "private": True},
        "sender": {"login": "carol", "id": 3, "type": "User"},
    },
    "gitlab": {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "project": {"id": 77, "name": "shop", "path_with_namespace": PROJECT, "default_branch": "main"},
        "object_attributes": {"iid": 1, "action": "merge", "state": "merged", "updated_at": "2026-03-02 10:00:00 UTC"},
    },
    "argocd": {
        "app": {
            "metadata": {"name": "payments", "namespace": "argocd", "uid": "uid-payments"},
            "spec": {"project": "default", "destination": {"server": "https://kubernetes.default.svc"}},
            "status": {
                "history": [
                    {
                        "id": 1,
                        "revision": "a" * 40,
                        "deployStartedAt": "2026-03-01T10:00:00Z",
                        "deployedAt": "2026-03-01T10:01:00Z",
                        "initiatedBy": {"automated": True},
                    }
                ],
                "operationState": None,
                "sync": {"status": "Synced"},
                "health": {"status": "Healthy"},
                "summary": {"images": ["registry.example.test/payments@sha256:" + "1" * 64]},
            },
        }
    },
    "flux": {
        "involvedObject": {"kind": "Kustomization", "name": "web", "namespace": "apps", "uid": "uid-ks-web"},
        "metadata": {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:" + "b" * 40},
        "severity": "info",
        "reason": "ReconciliationSucceeded",
        "message": "Reconciliation finished in 2.1s, next run in 10m0s",
        "reportingController": "kustomize-controller",
        "timestamp": "2026-03-01T10:02:00Z",
    },
}


def valid(receiver: str) -> dict[str, Any]:
    return copy.deepcopy(VALID[receiver])


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def credential_for(receiver: str, body: bytes, secret: str | None = None) -> dict[str, str]:
    """The header that verifies body at this receiver (with secret, else the configured one)."""
    if receiver == "github":
        key = secret or GITHUB_SECRET
        return {"X-Hub-Signature-256": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}
    if receiver == "gitlab":
        return {"X-Gitlab-Token": secret or GITLAB_TOKEN}
    if receiver == "argocd":
        return {"Authorization": f"Bearer {secret or ARGOCD_TOKEN}"}
    key = secret or FLUX_SECRET
    return {"X-Signature": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}


def delivery_headers(receiver: str, delivery: str = "d-1") -> dict[str, str]:
    """The headers besides the credential that the sender always sends."""
    if receiver == "github":
        return {"X-GitHub-Event": "pull_request_review", "X-GitHub-Delivery": delivery}
    if receiver == "gitlab":
        return {"X-Gitlab-Event": "Merge Request Hook", "Idempotency-Key": delivery}
    return {}


def send(client, receiver: str, body: bytes, headers: dict[str, str] | None = None, query: str = "", **extra):
    """POST body to /hooks/<receiver>/ with these headers (names as sent, e.g. X-Signature)."""
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in (headers or {}).items()}
    return client.post(f"/hooks/{receiver}/{query}", body, content_type="application/json", **meta, **extra)


def deliver(client, receiver: str, body: bytes, delivery: str = "d-1", **extra):
    """A delivery as the sender would make it: verified, with its usual headers."""
    headers = {**delivery_headers(receiver, delivery), **credential_for(receiver, body)}
    return send(client, receiver, body, headers, **extra)


def written() -> tuple[int, int]:
    """What the ledger holds: (queued, sequenced)."""
    return QueuedEntry.objects.count(), Entry.objects.count()


def refusal(response) -> str:
    """The message of a refusal, checking it has the one shape every receiver uses."""
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"], body
    return body["detail"]
