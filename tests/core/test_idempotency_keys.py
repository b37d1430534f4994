"""Frozen idempotency keys: one case per kind of fact the harvesters, webhooks, policy writers and
exports record, each built from a fixed input through the production code that records it.

The expected strings were computed on the code as it was before the shared helpers moved to
evidence.core; a rerun over an existing ledger appends nothing new only while they stay the same.
A failing case means a ledger harvested before the change would get duplicates: do not update
the expected value to make a change pass, keep the old recipe (evidence.core.digests names each).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine

from devkit.sandbox.github import FakeGitHub, GitHubModel, Review, ReviewDismissal, Ruleset
from devkit.sandbox.gitlab import FakeGitLab, GitLabModel
from devkit.sandbox.kubernetes import KubernetesSandbox
from evidence.compliance.custody.chain import finding_key
from evidence.compliance.findings import propose_acceptance, propose_policy
from evidence.compliance.models import Finding
from evidence.readmodels.models import Deployment
from evidence.sources.controllers.argocd import application_records
from evidence.sources.controllers.flux import object_records
from evidence.sources.controllers.kubernetes import KubernetesPodsHarvester
from evidence.sources.environment_rules import Placement
from evidence.sources.harvest import harvest_target
from evidence.sources.models import Source
from evidence.sources.oci.harvester import records_for
from evidence.sources.oci.provenance import Provenance
from evidence.sources.oci.trust import IdentityRule, TrustPolicy
from evidence.sources.oci.verdicts import NO_SIGNATURE, VERIFIED, Verdict
from evidence.sources.oci.verification import ArtifactReport
from evidence.sources.oci.verification import Finding as OciFinding
from evidence.sources.sources_file import load_sources_file
from ledger.append import append_entries
from ledger.envelope import Record, seal
from ledger.models import Entry

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REPO = "acme/payments"
PROJECT = "acme/platform/shop"
GITHUB_TOKEN = "ghs_frozen_keys_token"
GITLAB_TOKEN = "glpat-frozen-keys-token"
KUBE_TOKEN = "kube-frozen-keys-token"
IMAGE = "sha256:" + "ab" * 32


def keys_of(kind: str) -> list[str]:
    return sorted(Entry.objects.filter(kind=kind).values_list("idempotency_key", flat=True))


def payload_hashes(records: list[Record]) -> list[str]:
    """Short SHA-256 of each record's canonical envelope: the payload bytes the ledger would store."""
    return [hashlib.sha256(seal(record).payload).hexdigest()[:16] for record in records]


def stored_payload_hash(kind: str) -> str:
    return hashlib.sha256(bytes(Entry.objects.get(kind=kind).payload)).hexdigest()[:16]


# --- GitHub (the real harvester against the sandbox API) --------------------------------------


@pytest.fixture
def github_keys(db, monkeypatch) -> dict[str, list[str]]:
    model = GitHubModel(tokens={GITHUB_TOKEN})
    repo = model.add_repository(REPO)
    pull = model.add_merged_pull(
        REPO, 7, author="alice", merged_by="bob", merged_at="2026-03-01T10:00:00Z", approvers=("bob", "carol")
    )
    pull.reviews.append(Review(9901, "erin", "CHANGES_REQUESTED", pull.commits[0], "2026-03-01T09:30:00Z", "nope"))
    pull.reviews[1].state = "DISMISSED"
    pull.dismissals.append(ReviewDismissal(5501, pull.reviews[1].id, "dave", "2026-03-01T09:45:00Z", "wrong head"))
    repo.protection["main"] = {"required_approving_review_count": 1, "dismiss_stale_reviews": True}
    model.org_rulesets["acme"] = [
        Ruleset(
            900,
            "org: two reviews",
            "acme",
            [{"type": "pull_request", "parameters": {"required_approving_review_count": 2}}],
        )
    ]
    repo.rule_suites.append(
        {
            "id": 31,
            "actor_id": 12,
            "username": "mallory",
            "before_sha": "1" * 40,
            "after_sha": "2" * 40,
            "ref": "refs/heads/main",
            "pushed_at": "2026-03-01T15:00:00Z",
            "result": "pass",
            "evaluation_result": "pass",
        }
    )
    server = FakeGitHub(model).start()
    try:
        monkeypatch.setenv("FROZEN_GITHUB_TOKEN", GITHUB_TOKEN)
        source = Source.objects.create(
            name="acme-github",
            kind="github",
            url=server.url,
            credential_env="FROZEN_GITHUB_TOKEN",
            config={"repositories": [REPO], "branches": ["main"], "seconds_between_requests": 0, "backoff_factor": 0},
        )
        harvest_target(source, REPO)
    finally:
        server.stop()
    kinds = ["github.pull_request", "github.review", "github.review_dismissal", "github.branch_protection"]
    return {kind: keys_of(kind) for kind in [*kinds, "github.ruleset", "github.rule_suite", "github.branch_history"]}


def test_it_keeps_the_key_of_a_github_pull_request(github_keys):
    assert github_keys["github.pull_request"] == ["github:pr:acme/payments#7:a612bc6c1cb5a873fbe95a7d2ae2b350"]


def test_it_keeps_the_keys_of_github_reviews(github_keys):
    assert github_keys["github.review"] == [
        "github:review:700:34b36e93e598f1ea35319a9450bf1906",
        "github:review:701:add018efea2e4c5d8bd7428d554450ec",
        "github:review:9901:97a9423f23051bedd649214484cf3c04",
    ]


def test_it_keeps_the_key_of_a_github_review_dismissal(github_keys):
    assert github_keys["github.review_dismissal"] == ["github:review-dismissal:acme/payments:5501"]


def test_it_keeps_the_key_of_a_github_branch_protection_snapshot(github_keys):
    assert github_keys["github.branch_protection"] == [
        "github:protection:acme/payments@main:first:0bc3cc1b3518fe5c0131fbfb415f10a4"
    ]


def test_it_keeps_the_key_of_a_github_ruleset(github_keys):
    assert github_keys["github.ruleset"] == [
        "github:ruleset:acme:900:2026-01-05T09:00:00Z:cf8bffb7586d00d5243841ab512d6b20"
    ]


def test_it_keys_a_github_branch_history_by_the_heads_it_runs_between(github_keys):
    (key,) = github_keys["github.branch_history"]
    head = key.rsplit(":", 1)[1]
    assert key == f"github:history:acme/payments@main:first:{head}" and len(head) == 40


def test_it_keeps_the_key_of_a_github_rule_suite(github_keys):
    assert github_keys["github.rule_suite"] == ["github:rule-suite:acme/payments:31"]


# --- GitLab (the real harvester against the sandbox API) --------------------------------------

PUBLIC_GITLAB = "https://gitlab.example"


class GitLabBehindAProxy(FakeGitLab):
    """The sandbox as a GitLab whose external_url is https://gitlab.example: web_url fields
    do not carry the ephemeral port, so the recorded data (and its hash) is the same every run."""

    def _send(self, handler: Any, request: Any, response: Any) -> None:
        text = json.dumps(response.body).replace(self.origin, PUBLIC_GITLAB)
        response.body = json.loads(text)
        super()._send(handler, request, response)


@pytest.fixture
def gitlab_keys(db, monkeypatch) -> dict[str, list[str]]:
    model = GitLabModel(tokens={GITLAB_TOKEN})
    project = model.add_project(PROJECT)
    project.protected_branches.append({"name": "main", "push": [0], "merge": [40]})
    project.approval_rules.append({"name": "reviewers", "approvals_required": 2, "users": ["bob", "carol"]})
    model.add_merged_request(
        PROJECT, 4, author="alice", merged_by="bob", merged_at="2026-03-02T10:00:00Z", approvers=("bob", "carol")
    )
    server = GitLabBehindAProxy(model).start()
    try:
        monkeypatch.setenv("FROZEN_GITLAB_TOKEN", GITLAB_TOKEN)
        source = Source.objects.create(
            name="acme-gitlab",
            kind="gitlab",
            url=server.url,
            credential_env="FROZEN_GITLAB_TOKEN",
            config={"projects": [PROJECT], "branches": ["main"]},
        )
        harvest_target(source, PROJECT)
    finally:
        server.stop()
    kinds = ["gitlab.merge_request", "gitlab.approval", "gitlab.approval_settings", "gitlab.protected_branch"]
    return {kind: keys_of(kind) for kind in [*kinds, "gitlab.branch_history"]}


def test_it_keeps_the_key_of_a_gitlab_merge_request(gitlab_keys):
    assert gitlab_keys["gitlab.merge_request"] == ["gitlab:mr:acme/platform/shop!4:d61c13cf7a04007b00df20343d4f7067"]


def test_it_keys_a_gitlab_branch_history_by_the_heads_it_runs_between(gitlab_keys):
    (key,) = gitlab_keys["gitlab.branch_history"]
    head = key.rsplit(":", 1)[1]
    assert key == f"gitlab:history:acme/platform/shop@main:first:{head}" and len(head) == 40


def test_it_keeps_the_key_of_a_gitlab_approval(gitlab_keys):
    assert gitlab_keys["gitlab.approval"] == ["gitlab:approval:acme/platform/shop!4:22311938e88acdff771ea3f33edf8994"]


def test_it_keeps_the_key_of_a_gitlab_approval_settings_snapshot(gitlab_keys):
    assert gitlab_keys["gitlab.approval_settings"] == [
        "gitlab:approval-settings:acme/platform/shop:first:8317b9ff2c82247273b763e40ff90324"
    ]


def test_it_keeps_the_key_of_a_gitlab_protected_branch_snapshot(gitlab_keys):
    assert gitlab_keys["gitlab.protected_branch"] == [
        "gitlab:protection:acme/platform/shop@main:first:5259cb0915c1a7074ae4234656305be8"
    ]


# --- OCI (the record builder over a fixed inspection report) ----------------------------------


def oci_records() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for record in oci_record_list():
        out.setdefault(record.kind, []).append(record.idempotency_key)
    return out


def oci_record_list() -> list[Record]:
    signature = OciFinding(
        "cosign-signature",
        Verdict(VERIFIED, "verified by key:release", "key:release (sha256:1234)"),
        "signature-tag",
        manifest_digest="sha256:" + "cd" * 32,
        material={"payload": "eyJjcml0aWNhbCI6e319", "signature": "MEUCIQ=="},
    )
    provenance = OciFinding(
        "dsse-attestation",
        Verdict(VERIFIED, "", "identity:https://github.com/acme/* from https://token.actions.githubusercontent.com"),
        "attestation-tag",
        manifest_digest="sha256:" + "ef" * 32,
        material={"envelope": "eyJwYXlsb2FkVHlwZSI6ImFwcGxpY2F0aW9uL3ZuZC5pbi10b3RvK2pzb24ifQ=="},
        provenance=Provenance(
            "https://slsa.dev/provenance/v1",
            [IMAGE],
            "https://github.com/actions/runner",
            "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
            "https://github.com/acme/payments",
            "0" * 40,
            "refs/heads/main",
            "https://github.com/acme/payments/actions/runs/1",
        ),
        predicate_type="https://slsa.dev/provenance/v1",
        keyless={"issuer": "https://token.actions.githubusercontent.com", "integrated_time": 1772366400},
    )
    attestation = OciFinding(
        "dsse-attestation",
        Verdict(VERIFIED, "", "key:release (sha256:1234)"),
        "referrers-api",
        manifest_digest="sha256:" + "12" * 32,
        material={"envelope": "e30="},
        predicate_type="https://spdx.dev/Document",
    )
    missing = OciFinding("none", Verdict(NO_SIGNATURE, "no signature tag, no referrers"), "")
    report = ArtifactReport(
        "registry.example",
        "acme/payments",
        IMAGE,
        media_type="application/vnd.oci.image.manifest.v1+json",
        manifest='{"schemaVersion":2,"config":{"size":1.5}}',
        signatures=[signature, missing],
        attestations=[provenance, attestation],
        looked={"signature-tag": "found", "referrers-api": "found"},
    )
    policy = TrustPolicy(
        identities=(IdentityRule("https://token.actions.githubusercontent.com", "https://github.com/acme/*"),)
    )
    return records_for(report, ["1.4.0", "latest"], "acme-registry", policy)


def test_it_keeps_the_key_of_an_oci_artifact():
    assert oci_records()["oci.artifact"] == [f"oci:artifact:registry.example/acme/payments@{IMAGE}:b991286d907c9844"]


def test_it_keeps_the_keys_of_oci_signatures_found_and_missing():
    assert oci_records()["oci.signature"] == [
        f"oci:signature:registry.example/acme/payments@{IMAGE}:2b6136841579cc15",
        f"oci:signature:registry.example/acme/payments@{IMAGE}:6a28ccdc6028cf87",
        f"oci:signature:registry.example/acme/payments@{IMAGE}:0f6f88b7aec93c69",
    ]


def test_it_keeps_the_payloads_of_oci_records():
    records = [replace(record, observed_at=T) for record in oci_record_list()]
    assert payload_hashes(records) == [
        "c89bd2a368a16d2a",
        "a90a6069d3ecfdb1",
        "e4553fd76d0b3fa3",
        "1a65dcdcfb767316",
        "1dfeedc3b7ec6453",
    ]


def test_it_keeps_the_keys_of_oci_provenance_and_attestations():
    assert oci_records()["oci.provenance"] == [
        f"oci:provenance:registry.example/acme/payments@{IMAGE}:c65b25ac32bc2f04"
    ]


# --- Argo CD (the record builder over a fixed Application) ------------------------------------

ARGO_APP = {
    "metadata": {"name": "payments", "namespace": "argocd", "uid": "uid-app-payments"},
    "spec": {
        "project": "default",
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "payments"},
        "source": {"repoURL": "https://git.example/acme/deploy.git", "path": "payments", "targetRevision": "main"},
    },
    "status": {
        "sync": {"status": "Synced", "revision": "a" * 40},
        "health": {"status": "Healthy"},
        "summary": {"images": ["registry.example/acme/payments:1.4.0"]},
        "history": [
            {
                "id": 11,
                "revision": "a" * 40,
                "deployStartedAt": "2026-03-01T10:00:00Z",
                "deployedAt": "2026-03-01T10:01:00Z",
                "source": {"repoURL": "https://git.example/acme/deploy.git", "path": "payments"},
                "initiatedBy": {"username": "bob", "automated": False},
            }
        ],
        "operationState": {
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "startedAt": "2026-03-01T10:00:00Z",
            "finishedAt": "2026-03-01T10:01:00Z",
            "operation": {"sync": {"revision": "a" * 40}, "retry": {"factor": 1.5}},
            "syncResult": {"revision": "a" * 40},
        },
    },
}


def argocd_keys(previous: str = "first") -> dict[str, list[str]]:
    placement = Placement("prod", "payments", None)
    out: dict[str, list[str]] = {}
    for record in application_records("argo-prod", ARGO_APP, placement, T, previous):
        out.setdefault(record.kind, []).append(record.idempotency_key)
    return out


def test_it_keeps_the_key_of_an_argocd_history_item():
    assert argocd_keys()["argocd.deployment"] == ["argocd:argo-prod:deployment:payments:11:2026-03-01T10:01:00Z"]


def test_it_keeps_the_key_of_an_argocd_sync_operation():
    assert argocd_keys()["argocd.sync_operation"] == [
        "argocd:argo-prod:operation:payments:2026-03-01T10:00:00Z:Succeeded:29a3befe202068fd"
    ]


def test_it_keeps_the_key_of_an_argocd_application_snapshot():
    assert argocd_keys()["argocd.application"] == ["argocd:argo-prod:application:payments:first:ce0818a36179dc40"]
    assert argocd_keys(previous="0123456789abcdef")["argocd.application"] == [
        "argocd:argo-prod:application:payments:0123456789abcdef:ce0818a36179dc40"
    ]


def test_it_keeps_the_payloads_of_argocd_records():
    records = application_records("argo-prod", ARGO_APP, Placement("prod", "payments", None), T)
    assert payload_hashes(records) == ["1f8800e0aefb68c0", "bbb9979ad48fc9a1", "3cd4a21c36272875"]


# --- Flux (the record builder over fixed objects) ---------------------------------------------


def flux_source() -> Source:
    return Source(name="flux-prod", kind="flux", environment="prod", config={"cluster": "eu-1"})


KUSTOMIZATION = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {"name": "web", "namespace": "apps", "uid": "uid-ks-web", "generation": 1},
    "spec": {"interval": "10m", "path": "./apps/web", "prune": True, "timeout": 2.5},
    "status": {
        "observedGeneration": 1,
        "lastAppliedRevision": "main@sha1:" + "b" * 40,
        "lastAttemptedRevision": "main@sha1:" + "b" * 40,
        "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded"}],
        "history": [
            {
                "digest": "sha256:" + "01" * 32,
                "firstReconciled": "2026-03-01T10:00:00Z",
                "lastReconciled": "2026-03-01T11:00:00Z",
                "lastReconciledDuration": "2.5s",
                "lastReconciledStatus": "ReconciliationSucceeded",
                "totalReconciliations": 7,
                "metadata": {"revision": "main@sha1:" + "b" * 40},
            }
        ],
    },
}
HELMRELEASE = {
    "apiVersion": "helm.toolkit.fluxcd.io/v2",
    "kind": "HelmRelease",
    "metadata": {"name": "podinfo", "namespace": "apps", "uid": "uid-hr-podinfo", "generation": 1},
    "spec": {"interval": "5m", "chart": {"spec": {"chart": "podinfo"}}},
    "status": {
        "observedGeneration": 1,
        "lastAttemptedRevision": "6.5.0",
        "history": [
            {
                "name": "podinfo",
                "namespace": "apps",
                "version": 3,
                "status": "deployed",
                "chartName": "podinfo",
                "chartVersion": "6.5.0",
                "digest": "sha256:" + "02" * 32,
                "firstDeployed": "2026-03-01T10:00:00Z",
                "lastDeployed": "2026-03-01T10:00:00Z",
            }
        ],
        "conditions": [],
    },
}


def test_it_keeps_the_key_of_a_flux_kustomization_snapshot(db):
    records, *_ = object_records(flux_source(), KUSTOMIZATION, "Kustomization", "kustomize-controller", {}, T)
    assert [r.idempotency_key for r in records] == [
        "flux:flux-prod:kustomization:apps/Kustomization/web:first:129559b3d1e61c51"
    ]
    seen = {"apps/Kustomization/web": {"content": "0123456789abcdef"}}
    records, *_ = object_records(flux_source(), KUSTOMIZATION, "Kustomization", "kustomize-controller", seen, T)
    assert [r.idempotency_key for r in records] == [
        "flux:flux-prod:kustomization:apps/Kustomization/web:0123456789abcdef:129559b3d1e61c51"
    ]


def test_it_keeps_the_key_of_a_flux_helmrelease_snapshot(db):
    records, *_ = object_records(flux_source(), HELMRELEASE, "HelmRelease", "helm-controller", {}, T)
    assert [r.idempotency_key for r in records] == [
        "flux:flux-prod:helmrelease:apps/HelmRelease/podinfo:first:d6984acb8584675a"
    ]


def test_it_keeps_the_payloads_of_flux_records(db):
    kustomization, *_ = object_records(flux_source(), KUSTOMIZATION, "Kustomization", "kustomize-controller", {}, T)
    helmrelease, *_ = object_records(flux_source(), HELMRELEASE, "HelmRelease", "helm-controller", {}, T)
    assert payload_hashes(kustomization + helmrelease) == ["37e9346b3d2538d3", "54db7a3f20622ff6"]


def test_it_keeps_the_helmrelease_key_after_a_rollover_and_records_no_gap_entry(db):
    # History gaps are derived by the projector from the ledger (readmodels/projectors/deployments/gaps.py);
    # harvesters no longer write `deploy.gap` entries, and the facts they record keep their keys.
    seen = {"apps/HelmRelease/podinfo": {"content": "0123456789abcdef", "version": 1, "at": "2026-02-01T00:00:00Z"}}
    records, *_ = object_records(flux_source(), HELMRELEASE, "HelmRelease", "helm-controller", seen, T)
    assert [(r.kind, r.idempotency_key) for r in records] == [
        ("flux.helmrelease", "flux:flux-prod:helmrelease:apps/HelmRelease/podinfo:0123456789abcdef:d6984acb8584675a"),
    ]


# --- Kubernetes pods (the real harvester against the sandbox API server) -----------------------


def test_it_keeps_the_key_of_a_kubernetes_pods_snapshot(monkeypatch):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app.kubernetes.io/instance": "web"}},
        "spec": {"containers": [{"name": "web", "image": "registry.example/acme/web:1.0"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "web",
                    "image": "registry.example/acme/web:1.0",
                    "imageID": "registry.example/acme/web@" + IMAGE,
                    "ready": True,
                    "restartCount": 0,
                }
            ],
        },
    }
    monkeypatch.setenv("FROZEN_KUBE_TOKEN", KUBE_TOKEN)
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(pod)
        source = Source(name="kube-prod", kind="kubernetes", url=kube.url, credential_env="FROZEN_KUBE_TOKEN")
        source.environment = "prod"
        first = KubernetesPodsHarvester().harvest(source, "shop", {})
        again = KubernetesPodsHarvester().harvest(source, "shop", {"content": "0123456789abcdef"})
    assert [r.idempotency_key for r in first.records] == ["kubernetes:kube-prod:pods:shop:first:9f897e1e9e9a95af"]
    assert [r.idempotency_key for r in again.records] == [
        "kubernetes:kube-prod:pods:shop:0123456789abcdef:9f897e1e9e9a95af"
    ]


# --- Harvest runs and sources as code ---------------------------------------------------------


def test_it_keeps_the_key_of_a_harvest_run(db):
    source = Source.objects.create(name="argo-prod", kind="argocd")  # no url: the run fails, and says so
    with time_machine.travel(T, tick=False):
        run = harvest_target(source, "payments")
    assert run.status == "failed"
    assert keys_of("harvest.run") == [f"harvest-run:argo-prod:payments:{run.pk}:2026-03-01T12:00:00+00:00"]


def test_it_keeps_the_key_and_payload_of_a_source_configuration(db, tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "- name: argo-prod\n"
        "  kind: argocd\n"
        "  url: https://argocd.example\n"
        "  credential_env: ARGO_TOKEN\n"
        "  environment: prod\n"
        "  webhook_token_env: ARGO_HOOK_TOKEN\n"
        "  applications: [payments, orders]\n"  # the kind's schema wants names (numbers were taken before)
    )
    load_sources_file(path)
    entry = Entry.objects.get(kind="source.configuration")
    assert (
        entry.idempotency_key == "sources-file:a1ca3bf885728c9b46d630073316fdc1bee95b0a7a4b5098d4226d737bd0f1f8"
    )  # sha256 of the file
    assert entry.data["sources"] == [  # as written (each kind's schema refuses unknown keys, floats among them)
        {
            "name": "argo-prod",
            "kind": "argocd",
            "url": "https://argocd.example",
            "credential_env": "ARGO_TOKEN",
            "environment": "prod",
            "webhook_token_env": "ARGO_HOOK_TOKEN",
            "applications": ["payments", "orders"],
        }
    ]


# --- Policies, acceptances, packs -------------------------------------------------------------


def test_it_keeps_the_key_of_a_policy_version(db):
    rules = {
        "min_approvals": 2,
        "trusted_builders": ["https://github.com/actions/*"],
        "protection": {"protected": True},
    }
    appended = propose_policy("prod", "engineer", rules, effective_at="2026-03-01T00:00:00Z")
    assert appended.idempotency_key == "policy:prod:1:38d3720953d824f63271a9b30dc6ed91160aa0da1a8fe6eb3a39abbb7d4b3833"


def test_it_keeps_the_key_of_a_finding(db):
    assert (
        finding_key("argocd:argo-prod:payments:2026-03-01T10:00:00+00:00", "unsigned-image", IMAGE)
        == "1198e2a7bc02ca1e75d1a9d621f3aeaa"
    )


def test_it_keeps_the_key_of_a_finding_acceptance_proposal(db):
    deployment = Deployment.objects.create(
        identity="argocd:argo-prod:payments:2026-03-01T10:00:00+00:00",
        controller="argocd",
        source="argo-prod",
        subject="argocd:payments",
        environment="prod",
        application="payments",
        started_at=T,
        outcome="succeeded",
        first_seq=1,
    )
    finding = Finding.objects.create(
        key=finding_key(deployment.identity, "unsigned-image", IMAGE),
        deployment=deployment,
        environment="prod",
        application="payments",
        deployed_at=T,
        code="unsigned-image",
        severity="high",
        subject=IMAGE,
        explanation="No verified signature.",
    )
    appended = propose_acceptance(
        finding.key, "engineer", "Signing key rotation; ticket SEC-12.", "2099-01-01T00:00:00Z"
    )
    assert appended.idempotency_key == (
        "finding:acceptance:1198e2a7bc02ca1e75d1a9d621f3aeaa:6ab9a313ce12c28f4854b1d64194ba731c2ebd51b8c479ae620b9df767b90d32"
    )


def test_it_keeps_the_key_of_an_audit_pack(db, monkeypatch):
    from exports.pack import build

    monkeypatch.setattr(build, "render_html", lambda *args: "<html></html>")
    monkeypatch.setattr(build, "render_pdf", lambda html, files, when: (b"%PDF-1.7 frozen pack", 3))
    monkeypatch.setattr(build, "sign_pdf", lambda pdf, signer: pdf + b" signed")
    scope = SimpleNamespace(to_json=lambda: {"type": "entries"})
    evidence = SimpleNamespace(entries=[], checkpoint=SimpleNamespace(size=0))
    summary = {"figures": {"signer.certificate_sha256": "00" * 32}}
    signer = SimpleNamespace(subject="CN=Demo")
    built = build.assemble(scope, SimpleNamespace(findings=[]), evidence, signer, "auditor", T, summary, {})
    monkeypatch.setattr(build, "append_entry", lambda record: SimpleNamespace(seq=record.idempotency_key))
    assert build.record_pack(built, "auditor") == (
        "exports:audit_pack:49eaa6516fa7576ae017d2a86e053cedc93de4f7d97da605a9f6c3bf62a07019"
    )


# --- Webhook deliveries (the real views) ------------------------------------------------------

GITHUB_BODY = json.dumps({"action": "submitted", "repository": {"full_name": "acme/other"}}).encode()
GITLAB_BODY = json.dumps({"object_kind": "push", "ref": "refs/heads/main", "project": {"path_with_namespace": "a/b"}})


def test_it_keeps_the_key_of_a_github_webhook_delivery(client, db, settings):
    settings.GITHUB_WEBHOOK_SECRET = "github-hook-secret"
    signature = "sha256=" + hmac.new(b"github-hook-secret", GITHUB_BODY, hashlib.sha256).hexdigest()
    response = client.post(
        "/hooks/github/",
        data=GITHUB_BODY,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature,
        HTTP_X_GITHUB_DELIVERY="72d3162e-cc78-11e3-81ab-4c9367dc0958",
        HTTP_X_GITHUB_EVENT="pull_request_review",
    )
    assert response.status_code == 202, response.content
    assert keys_of("github.webhook") == ["github:delivery:72d3162e-cc78-11e3-81ab-4c9367dc0958"]


def test_it_keeps_the_keys_of_gitlab_webhook_deliveries(client, db, settings):
    settings.GITLAB_WEBHOOK_TOKEN = "gitlab-hook-token"
    headers = {"HTTP_X_GITLAB_TOKEN": "gitlab-hook-token", "HTTP_X_GITLAB_EVENT": "Push Hook"}
    with_id = client.post(
        "/hooks/gitlab/", data=GITLAB_BODY, content_type="application/json", HTTP_IDEMPOTENCY_KEY="f00d", **headers
    )
    without_id = client.post("/hooks/gitlab/", data=GITLAB_BODY, content_type="application/json", **headers)
    assert (with_id.status_code, without_id.status_code) == (202, 202)
    assert keys_of("gitlab.webhook") == [
        "gitlab:delivery-body:bf5cf914deffd4f46622afdc03366ba3275cfa8194e573da10be94a7a3e81a33",
        "gitlab:delivery:f00d",
    ]


def test_it_keeps_the_key_and_payload_of_an_argocd_notification(client, db, settings):
    settings.ARGOCD_WEBHOOK_TOKEN = "argocd-hook-token"
    Source.objects.create(name="argo-prod", kind="argocd", environment="prod")
    body = json.dumps({"app": ARGO_APP}).encode()
    with time_machine.travel(T, tick=False):
        response = client.post(
            "/hooks/argocd/", data=body, content_type="application/json", HTTP_AUTHORIZATION="Bearer argocd-hook-token"
        )
    assert response.status_code == 202, response.content
    # The data gained `verification` (which secret variable verified it) with the webhook base; the key did not.
    assert stored_payload_hash("argocd.webhook") == "a425ee2ab361039f"
    assert keys_of("argocd.webhook") == [
        "argocd:argo-prod:webhook:9debcd4263d3cf6b2e5dfca565b0f9076116bb0d36e659a284748e10007f3f9c"
    ]


def test_it_keeps_the_key_and_payload_of_a_flux_event(client, db, settings):
    settings.FLUX_WEBHOOK_TOKEN = "flux-hook-token"
    Source.objects.create(name="flux-prod", kind="flux", environment="prod")
    body = json.dumps(
        {
            "involvedObject": {"kind": "Kustomization", "name": "web", "namespace": "apps"},
            "severity": "info",
            "reason": "ReconciliationSucceeded",
            "message": "Reconciliation finished in 2.5s",
            "reportingController": "kustomize-controller",
            "timestamp": "2026-03-01T10:00:00Z",
        }
    ).encode()
    signature = "sha256=" + hmac.new(b"flux-hook-token", body, hashlib.sha256).hexdigest()
    with time_machine.travel(T, tick=False):
        response = client.post("/hooks/flux/", data=body, content_type="application/json", HTTP_X_SIGNATURE=signature)
    assert response.status_code == 202, response.content
    assert stored_payload_hash("flux.event") == "a60d292889c05db7"  # with `verification`, as above
    assert keys_of("flux.event") == [
        "flux:flux-prod:event:cd9bbbe2073e3a3b63a4859b53d28fbb92949fec60eac310cd6dc8ad58f93eea"
    ]


# --- Deployment identities (projected; finding keys and acceptance keys are made of them) ------


def test_it_keeps_the_deployment_identities_that_finding_keys_are_made_of(db, projected):
    app = deepcopy(ARGO_APP)
    app["metadata"]["name"] = "ledger"
    item = {**app["status"]["history"][0], "id": 12, "deployStartedAt": "2026-03-01T13:00:00+01:00"}
    app["status"]["history"].append({**item, "deployedAt": "2026-03-01T13:02:00+01:00"})
    del app["status"]["operationState"]
    append_entries(application_records("argo-prod", ARGO_APP, Placement("prod", "payments", None), T))
    append_entries(application_records("argo-prod", app, Placement("prod", "ledger", None), T))
    kustomization, *_ = object_records(flux_source(), KUSTOMIZATION, "Kustomization", "kustomize-controller", {}, T)
    helmrelease, *_ = object_records(flux_source(), HELMRELEASE, "HelmRelease", "helm-controller", {}, T)
    append_entries(kustomization + helmrelease)

    assert sorted(Deployment.objects.values_list("identity", flat=True)) == [
        "argocd:argo-prod:ledger:2026-03-01T10:00:00+00:00",
        "argocd:argo-prod:ledger:2026-03-01T13:00:00+01:00",  # the offset Argo CD wrote is kept
        "argocd:argo-prod:payments:2026-03-01T10:00:00+00:00",
        "flux:flux-prod:flux:apps/HelmRelease/podinfo:v3",
        "flux:flux-prod:flux:apps/Kustomization/web:main@sha1:" + "b" * 40 + ":2026-03-01T10:00:00+00:00",
    ]
