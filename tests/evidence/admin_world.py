"""A small world for the admin tests: personas, and one deployment of each kind of evidence.

The deployment and its entries come through the real write path (Argo CD records -> ledger ->
projector); the forge and OCI rows it is checked against are made directly, as the admin only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User

from devkit.sandbox.argocd import application, history_item
from evidence.compliance.judgement import refresh_findings
from evidence.core.access import AUDITORS, ENGINEERS
from evidence.readmodels.models import (
    Approval,
    Deployment,
    ProtectionObservation,
    ProtectionSnapshot,
    Provenance,
    PullRequest,
    SignatureVerdict,
)
from evidence.sources.models import HarvestRun, Source

from .gitops import at, digest, record_argocd, sha

REPO = "acme/payments"


def persona(username: str, group: str | None = None, superuser: bool = False) -> User:
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.test", "pw-" + username)
    user = User.objects.create_user(username, f"{username}@example.test", "pw-" + username, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def auditor(db) -> User:
    return persona("alice-auditor", AUDITORS)


@pytest.fixture
def engineer(db) -> User:
    return persona("bob-engineer", ENGINEERS)


@pytest.fixture
def second_engineer(db) -> User:
    """Another engineer, for four eyes: approves what `engineer` proposed."""
    return persona("erin-engineer", ENGINEERS)


@pytest.fixture
def outsider(db) -> User:
    return persona("charlie-outsider")


@pytest.fixture
def root(db) -> User:
    return persona("root", superuser=True)


@dataclass
class World:
    deployment: Deployment
    pull: PullRequest
    source: Source


def build_world(deployments: int = 1) -> World:
    """payments in prod: `deployments` syncs by dave, the last of revision sha(1) from PR #42 by erin."""
    history = [
        history_item(
            n,
            sha(1 if n == deployments else 100 + n),
            at(10 * n),
            at(10 * n + 2),
            "https://git.example.test/d.git",
            "dave",
        )
        for n in range(1, deployments + 1)
    ]
    record_argocd(application("payments", history=history, images=[f"r.example.test/payments@{digest(1)}"]), "prod")
    deployment = Deployment.objects.get(revision=sha(1))
    pull = PullRequest.objects.create(
        forge="github",
        repository=REPO,
        number=42,
        title="Pay faster",
        url=f"https://github.test/{REPO}/pull/42",
        author="erin",
        base="main",
        head_sha=sha(2),
        merge_commit_sha=sha(1),
        merged_at=at(0),
        merged_by="frank",
        commits=[sha(2)],
        source="github-acme",
        entry_seq=900,
    )
    Approval.objects.create(
        forge="github",
        repository=REPO,
        number=42,
        pull_request=pull,
        review_id="7",
        reviewer="grace",
        state="APPROVED",
        commit_id=sha(2),
        submitted_at=at(-5),
        entry_seq=901,
    )
    SignatureVerdict.objects.create(
        registry="r.example.test",
        repository="payments",
        digest=digest(1),
        verdict="verified",
        signer="release-key",
        observed_at=at(1),
        entry_seq=902,
    )
    Provenance.objects.create(
        registry="r.example.test",
        repository="payments",
        digest=digest(1),
        builder_id="https://builder.test/ci",
        source_repo=f"https://github.test/{REPO}",
        source_commit=sha(1),
        verdict="verified",
        observed_at=at(1),
        entry_seq=903,
    )
    source = Source.objects.create(name="github-acme", kind="github", url="https://github.test", schedule=3600)
    HarvestRun.objects.create(
        source=source,
        target=REPO,
        started_at=at(0),
        finished_at=at(0) + timedelta(seconds=12),
        status="partial",
        requests=7,
        records=5,
        appended=4,
        errors=["rulesets: 403 Resource not accessible by integration"],
    )
    for minutes, approvals, seq in ((0, 1, 904), (60, 2, 905)):
        ProtectionSnapshot.objects.create(
            forge="github",
            repository=REPO,
            branch="main",
            observed_at=at(minutes),
            settings={"required_approvals": approvals, "dismiss_stale_reviews": True},
            content_hash=f"h{approvals}",
            entry_seq=seq,
        )
    # Observed hourly, then nobody looked for 5 hours (a gap), then again.
    for minutes, hash_, seq in ((0, "h1", 910), (60, "h2", 911), (120, "h2", 912), (420, "h2", 913)):
        ProtectionObservation.objects.create(
            forge="github",
            repository=REPO,
            branch="main",
            observed_at=at(minutes),
            content_hash=hash_,
            changed=minutes in (0, 60),
            source="github-acme",
            entry_seq=seq,
        )
    refresh_findings()  # judge again now that the forge and OCI rows are there
    return World(deployment, pull, source)


@pytest.fixture
def world(db, projected_at_once) -> World:
    return build_world()
