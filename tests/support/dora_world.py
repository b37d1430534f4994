"""Small hand-built delivery histories for the DORA tests, appended through the real ledger path.

`World` writes GitHub pull requests (with their opened time and an approval), Argo CD deployments
of their merge commits into prod, and incidents; each call says what it adds, so a test reads as
the story whose figures it checks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from evidence.readmodels.models import Deployment, PullRequest
from evidence.readmodels.projectors import project_pending
from ledger.append import append_entries
from ledger.envelope import Record

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
REPO = "acme/payments"
INCIDENT_SECRET = "incident-hooks-secret-for-tests"


def sha(label: str) -> str:
    return hashlib.sha1(label.encode()).hexdigest()  # noqa: S324 - a made-up commit id


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def signed(body: dict[str, Any], secret: str = INCIDENT_SECRET) -> tuple[bytes, str]:
    raw = json.dumps(body).encode()
    return raw, "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class World:
    def __init__(self) -> None:
        self.records: list[Record] = []
        self.number = 0

    def _add(self, kind: str, subject: str, key: str, data: dict[str, Any], at: datetime, source: str) -> None:
        self.records.append(Record(kind, source, subject, key, data, observed_at=at, occurred_at=at))

    def change(
        self,
        merged_at: datetime,
        opened: timedelta = timedelta(hours=10),
        approved: timedelta | None = None,
        title: str = "",
    ) -> str:
        """A PR opened `opened` before its merge and approved `approved` before it (default: half way);
        returns its merge commit."""
        self.number += 1
        n = self.number
        merge, head = sha(f"merge-{n}"), sha(f"head-{n}")
        data = {
            "repository": REPO,
            "number": n,
            "title": title or f"Change {n}",
            "html_url": f"https://github.com/{REPO}/pull/{n}",
            "author": "alice",
            "base": "main",
            "head_sha": head,
            "merge_commit_sha": merge,
            "created_at": stamp(merged_at - opened),
            "merged_at": stamp(merged_at),
            "merged_by": "bob",
            "commits": [head],
        }
        self._add("github.pull_request", f"github:{REPO}", f"github:pull:{REPO}:{n}", data, merged_at, "github-acme")
        at = merged_at - (approved if approved is not None else opened / 2)
        review = {
            "repository": REPO,
            "number": n,
            "id": 9000 + n,
            "state": "APPROVED",
            "reviewer": "bob",
            "commit_id": head,
            "submitted_at": stamp(at),
        }
        self._add("github.review", f"github:{REPO}", f"github:review:{9000 + n}", review, at, "github-acme")
        return merge

    def deploy(self, revision: str, at: datetime, application: str = "payments", environment: str = "prod") -> None:
        data = {"environment": environment, "application": application, "revision": revision, "images": []}
        key = f"argocd:deploy:{application}:{environment}:{stamp(at)}"
        self._add("argocd.deployment", f"argocd:{application}", key, data, at, "argo-prod")

    def failed_sync(self, revision: str, started: datetime, application: str = "payments") -> None:
        finished = started + timedelta(minutes=1)
        operation = {
            "phase": "Failed",
            "startedAt": stamp(started),
            "finishedAt": stamp(finished),
            "message": "one or more objects failed to apply",
            "syncResult": {"revision": revision},
            "operation": {"sync": {"revision": revision}, "initiatedBy": {"automated": True}},
        }
        data = {"environment": "prod", "application": application, "operationState": operation}
        key = f"argocd:operation:{application}:{stamp(started)}:Failed"
        self._add("argocd.sync_operation", f"argocd:{application}", key, data, finished, "argo-prod")

    def incident(self, ident: str, started: datetime, resolved: datetime | None = None, **more: Any) -> None:
        body = {"id": ident, "environment": "prod", "application": "payments", "started_at": stamp(started)}
        if resolved:
            body["resolved_at"] = stamp(resolved)
        body.update({k: v for k, v in more.items() if v is not None})
        body = {k: v for k, v in body.items() if v != ""}
        data = {"incident": body, "verification": {"verified": True}, "body": json.dumps(body)}
        self._add(
            "incident.report",
            f"incident:{ident}",
            f"incident:{ident}:{len(self.records)}",
            data,
            started,
            "incident-webhook",
        )

    def append(self) -> list[int]:
        seqs = [a.seq for a in append_entries(self.records)]
        self.records = []
        project_pending()
        return seqs


def deployment_at(at: datetime, application: str = "payments") -> Deployment:
    return Deployment.objects.get(application=application, finished_at=at)


def pull(number: int) -> PullRequest:
    return PullRequest.objects.get(repository=REPO, number=number)
