"""Histories with known right answers for custody and findings, appended through the real path.

`Story` holds one clean change into prod: app repo acme/payments PR #1 (alice, approved by bob on
its head, merged by lead into protected main, whose first-parent history shows the merge), image
D1 signed by a trusted key with verified provenance from the merge commit, config repo acme/deploy
PR #2 (carol, approved by dave) whose merge commit is the deployed revision, pods running D1, and
a prod policy in force. Each test breaks one fact
(the builder methods take overrides) and checks the findings it must give, no more, no fewer.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from evidence.compliance.findings.policy import approve_acceptance, approve_policy, propose_acceptance, propose_policy
from evidence.readmodels.models import Deployment
from evidence.readmodels.projectors import project_pending
from ledger.append import append_entries
from ledger.envelope import Record

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the app change is merged
APP, CONFIG = "acme/payments", "acme/deploy"
REGISTRY, IMAGE_REPO = "registry.local", "acme/payments"
TRUSTED_SIGNER = "cosign:acme-release"
BUILDER = "https://github.com/acme/payments/.github/workflows/build.yml@refs/heads/main"
POLICY = {
    "min_approvals": 1,
    "require_signature": True,
    "trusted_signers": ["cosign:acme-*"],
    "require_provenance": True,
    "trusted_builders": ["https://github.com/acme/*"],
    "protection": {"protected": True, "dismiss_stale_reviews": True},
}
PROTECTED = {
    "protected": True,
    "required_approvals": 1,
    "dismiss_stale_reviews": True,
    "require_pull_request": True,
    "enforce_admins": True,
}


def sha(label: str) -> str:
    return hashlib.sha1(label.encode()).hexdigest()  # noqa: S324 - a made-up commit id


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Story:
    def __init__(self, tag: str = "a") -> None:
        self.tag = tag
        self.records: list[Record] = []
        self.head = sha(f"{tag}-head")
        self.merge = sha(f"{tag}-merge")
        self.config_head = sha(f"{tag}-config-head")
        self.config_merge = sha(f"{tag}-config-merge")
        self.image = digest(f"{tag}-image")
        self.number = 1 if tag == "a" else 100 + len(tag) * 7 + ord(tag[0])
        self.deployed_at = T0 + timedelta(hours=2)

    def add(self, kind: str, source: str, subject: str, key: str, data: dict[str, Any], at: datetime) -> None:
        self.records.append(Record(kind, source, subject, key, data, observed_at=at, occurred_at=at))

    # --- forge -----------------------------------------------------------------------------
    def pull(self, repo: str, number: int, author: str, head: str, merge: str, merged_at: datetime, **kw: Any) -> None:
        data = {
            "repository": repo,
            "number": number,
            "title": kw.get("title", f"Change {number}"),
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "author": author,
            "base": kw.get("base", "main"),
            "head_sha": head,
            "merge_commit_sha": merge,
            "merged_at": stamp(merged_at),
            "merged_by": kw.get("merged_by", "lead"),
            "commits": kw.get("commits", [head]),
        }
        data["commit_details"] = [
            {
                "sha": c,
                "parents": [],
                "author": author,
                "author_email": f"{author}@example.test",
                "committer": author,
                "committer_email": f"{author}@example.test",
                "authored_at": stamp(merged_at),
                "committed_at": stamp(merged_at),
            }
            for c in data["commits"]
        ]
        key = f"github:pull:{repo}:{number}:{hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]}"
        self.add("github.pull_request", "github-acme", f"github:{repo}", key, data, merged_at)

    def history(
        self, repo: str, commits: list[tuple[str, list[str], str]], at: datetime, branch: str = "main", since: str = ""
    ) -> None:
        """The branch's first-parent line grew by `commits` ((sha, parents, author), oldest first)."""
        data = {
            "repository": repo,
            "branch": branch,
            "head": commits[-1][0],
            "since": since,
            "complete": bool(since),
            "commits": [
                {
                    "sha": sha,
                    "parents": parents,
                    "author": author,
                    "author_email": f"{author}@example.test",
                    "committer": author,
                    "committer_email": f"{author}@example.test",
                    "authored_at": stamp(at),
                    "committed_at": stamp(at),
                }
                for sha, parents, author in commits
            ],
        }
        key = f"github:history:{repo}@{branch}:{since or 'first'}:{commits[-1][0]}"
        self.add("github.branch_history", "github-acme", f"github:{repo}@{branch}", key, data, at)

    def review(
        self, repo: str, number: int, reviewer: str, commit: str, at: datetime, state: str = "APPROVED", rid: int = 0
    ) -> int:
        rid = rid or int(hashlib.sha256(f"{repo}{number}{reviewer}{commit}".encode()).hexdigest()[:8], 16)
        data = {
            "repository": repo,
            "number": number,
            "id": rid,
            "state": state,
            "reviewer": reviewer,
            "commit_id": commit,
            "submitted_at": stamp(at),
        }
        self.add("github.review", "github-acme", f"github:{repo}", f"github:review:{rid}:{state}", data, at)
        return rid

    def dismissal(self, repo: str, number: int, rid: int, at: datetime, by: str = "octo-admin") -> None:
        """A review dismissed at `at` (GitHub's review_dismissed timeline event)."""
        data = {
            "repository": repo,
            "number": number,
            "event_id": rid + 1,
            "review_id": rid,
            "dismissed_by": by,
            "dismissed_at": stamp(at),
            "message": "dismissed",
            "review_state": "approved",
        }
        key = f"github:review-dismissal:{repo}:{rid + 1}"
        self.add("github.review_dismissal", "github-acme", f"github:{repo}", key, data, at)

    def protection(self, repo: str, settings: dict[str, Any], at: datetime, branch: str = "main") -> str:
        content = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
        data = {"repository": repo, "branch": branch, "effective": settings, "hash": content, "previous_hash": None}
        self.add(
            "github.branch_protection", "github-acme", f"github:{repo}", f"github:protection:{repo}:{content}", data, at
        )
        self.observe(repo, content, at, branch, changed=True)
        return content

    def observe(self, repo: str, content: str, at: datetime, branch: str = "main", changed: bool = False) -> None:
        data = {
            "source_kind": "github",
            "target": repo,
            "observed": {"repository": repo, "protection": {branch: {"hash": content, "changed": changed}}},
        }
        self.add("harvest.run", "github-acme", f"github:{repo}", f"harvest:{repo}:{stamp(at)}:{content}", data, at)

    def bypass(self, repo: str, after_sha: str, actor: str, at: datetime) -> None:
        suite = {"id": 77, "actor_name": actor, "after_sha": after_sha, "ref": "refs/heads/main", "result": "bypass"}
        self.add(
            "github.rule_suite",
            "github-acme",
            f"github:{repo}",
            f"github:rule-suite:{repo}:77",
            {"repository": repo, "rule_suite": suite},
            at,
        )

    # --- registry --------------------------------------------------------------------------
    def signature(
        self,
        image: str,
        verdict: str = "verified",
        signer: str = TRUSTED_SIGNER,
        n: int = 0,
        at: datetime | None = None,
    ) -> None:
        data = {
            "registry": REGISTRY,
            "repository": IMAGE_REPO,
            "digest": image,
            "verdict": verdict,
            "signer": signer,
            "reason": "" if verdict == "verified" else f"{verdict} as checked",
            "signature_kind": "cosign",
        }
        self.add(
            "oci.signature",
            "oci-acme",
            f"oci:{REGISTRY}/{IMAGE_REPO}",
            f"oci:sig:{image}:{verdict}:{signer}:{n}",
            data,
            at or T0 + timedelta(minutes=30 + n),
        )

    def provenance(
        self,
        image: str,
        commit: str,
        builder: str = BUILDER,
        repo: str = "https://github.com/acme/payments",
        n: int = 0,
        at: datetime | None = None,
    ) -> None:
        prov = {
            "builder_id": builder,
            "source_repo": repo,
            "source_commit": commit,
            "predicate_type": "https://slsa.dev/provenance/v1",
        }
        data = {
            "registry": REGISTRY,
            "repository": IMAGE_REPO,
            "digest": image,
            "verdict": "verified",
            "provenance": prov,
        }
        self.add(
            "oci.provenance",
            "oci-acme",
            f"oci:{REGISTRY}/{IMAGE_REPO}",
            f"oci:prov:{image}:{commit}:{builder}:{n}",
            data,
            at or T0 + timedelta(minutes=31 + n),
        )

    def artifact(self, image: str) -> None:
        data = {
            "registry": REGISTRY,
            "repository": IMAGE_REPO,
            "digest": image,
            "media_type": "application/vnd.oci.image.manifest.v1+json",
            "tags": ["1.0"],
        }
        self.add(
            "oci.artifact",
            "oci-acme",
            f"oci:{REGISTRY}/{IMAGE_REPO}",
            f"oci:artifact:{image}",
            data,
            T0 + timedelta(minutes=29),
        )

    # --- deployment ------------------------------------------------------------------------
    def deploy(self, revision: str, images: list[str], at: datetime, application: str = "payments") -> None:
        data = {"environment": "prod", "application": application, "revision": revision, "images": images}
        self.add(
            "argocd.deployment",
            "argo-prod",
            f"argocd:{application}",
            f"argocd:deploy:{application}:{stamp(at)}",
            data,
            at,
        )

    def sync_operation(self, revision: str, started: datetime, phase: str, application: str = "payments") -> None:
        """An Argo CD sync operation (operationState) that ended in `phase` (Failed, Error, Succeeded)."""
        finished = started + timedelta(minutes=1)
        operation = {
            "phase": phase,
            "startedAt": stamp(started),
            "finishedAt": stamp(finished),
            "message": "one or more objects failed to apply" if phase != "Succeeded" else "successfully synced",
            "syncResult": {"revision": revision},
            "operation": {"sync": {"revision": revision}, "initiatedBy": {"automated": True}},
        }
        data = {"environment": "prod", "application": application, "operationState": operation}
        key = f"argocd:operation:{application}:{stamp(started)}:{phase}"
        self.add("argocd.sync_operation", "argo-prod", f"argocd:{application}", key, data, finished)

    def pods(self, images: list[str], at: datetime, application: str = "payments") -> None:
        containers = [
            {"name": "app", "image": f"{REGISTRY}/{IMAGE_REPO}:1.0", "imageID": f"{REGISTRY}/{IMAGE_REPO}@{d}"}
            for d in images
        ]
        data = {
            "namespace": "shop",
            "pods": [
                {
                    "name": f"{application}-1",
                    "environment": "prod",
                    "application": application,
                    "containers": containers,
                }
            ],
        }
        self.add(
            "kubernetes.pods",
            "kube-prod",
            "kubernetes:shop",
            f"kube:pods:{application}:{stamp(at)}:{','.join(images)}",
            data,
            at,
        )

    # --- the clean story ---------------------------------------------------------------------
    def clean(self, **broken: Any) -> Story:
        """Every fact of the clean change; `broken` names the facts to leave out (`skip`: artifact,
        signature, provenance, deploy, app_protection, app_observed_after, app_history) or replace."""
        skip = broken.get("skip", set())
        a, merge = self.number, self.merge
        if "app_protection" not in skip:
            content = self.protection(APP, broken.get("app_settings", PROTECTED), T0 - timedelta(days=10))
            self.observe(APP, content, T0 - timedelta(days=1))
            if "app_observed_after" not in skip:
                self.observe(APP, content, T0 + timedelta(days=1))
        self.pull(APP, a, "alice", self.head, merge, T0)
        if "app_history" not in skip:
            self.history(APP, [(merge, [sha(f"{self.tag}-base"), self.head], "lead")], T0 + timedelta(minutes=5))
        for reviewer, commit in broken.get("app_reviews", [("bob", self.head)]):
            self.review(APP, a, reviewer, commit, T0 - timedelta(hours=1))
        config = self.protection(CONFIG, PROTECTED, T0 - timedelta(days=9))
        self.observe(CONFIG, config, T0 - timedelta(days=1))
        self.observe(CONFIG, config, T0 + timedelta(days=1))
        self.pull(CONFIG, a + 1, "carol", self.config_head, self.config_merge, T0 + timedelta(hours=1))
        config_line = [(self.config_merge, [sha(f"{self.tag}-config-base"), self.config_head], "lead")]
        self.history(CONFIG, config_line, T0 + timedelta(hours=1, minutes=5))
        self.review(CONFIG, a + 1, "dave", self.config_head, T0 + timedelta(minutes=50))
        if "artifact" not in skip:
            self.artifact(self.image)
        if "signature" not in skip:
            self.signature(
                self.image, *broken.get("signature", ("verified", TRUSTED_SIGNER)), at=broken.get("signature_at")
            )
        if "provenance" not in skip:
            self.provenance(self.image, broken.get("provenance_commit", merge), broken.get("builder", BUILDER))
        if "deploy" not in skip:
            self.deploy(self.config_merge, [self.image], self.deployed_at)
            self.pods(broken.get("running", [self.image]), self.deployed_at + timedelta(minutes=5))
        return self

    def append(self) -> list[int]:
        """Append through the ledger (tests see the projection with `projected`)."""
        seqs = [a.seq for a in append_entries(self.records)]
        self.records = []
        return seqs


SECOND = "erin"  # the second engineer of four eyes: none of the story's authors, approvers or mergers


def prod_policy(rules: dict[str, Any] | None = None, at: datetime | None = None, by: str = "engineer") -> int | None:
    """Propose a prod policy version and have the second engineer approve it; the proposal's seq."""
    proposed = propose_policy("prod", by, rules or POLICY, effective_at=at or T0 - timedelta(days=30))
    project_pending()
    if proposed.created and proposed.seq is not None:
        approve_policy(proposed.seq, SECOND)
        project_pending()
    return proposed.seq


def accept_risk(key: str, reason: str, until: datetime, by: str = "engineer", second: str | None = SECOND) -> int:
    """Propose accepting a finding's risk and (unless `second` is None) have another engineer approve."""
    proposed = propose_acceptance(key, by, reason, until)
    project_pending()
    assert proposed.seq is not None
    if second is not None:
        approve_acceptance(proposed.seq, second)
        project_pending()
    return proposed.seq


def deployment(application: str = "payments") -> Deployment:
    return Deployment.objects.filter(application=application).order_by("-finished_at").first()
