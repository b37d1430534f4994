"""Harvesting Flux Kustomizations and HelmReleases with the real kubernetes client."""

from __future__ import annotations

import pytest

from devkit.sandbox.kubernetes import (
    KubernetesSandbox,
    condition,
    helm_snapshot,
    helmrelease,
    kustomization,
    kustomization_history_item,
)
from evidence.compliance.running import running_at
from evidence.readmodels.models import Deployment, DeploymentGap
from evidence.sources.harvest import harvest_source, harvest_target
from ledger.models import Entry
from tests.support.gitops import KUBE_TOKEN, at, kube_source, sha

pytestmark = pytest.mark.usefixtures("projected")


def rev(n: int) -> str:
    return f"main@sha1:{sha(n)}"


def item(n: int, status: str = "ReconciliationSucceeded"):
    """The n-th reconciliation: revision n, applied at hour n."""
    return kustomization_history_item(rev(n), "sha256:" + f"{n:064x}", at(60 * n), at(60 * n + 30), status)


def flux(url, monkeypatch, **config):
    return kube_source(url, monkeypatch, "flux", "flux-prod", cluster="eu-1", **config)


def test_it_records_kustomization_history_as_deployments(db, monkeypatch):
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(
            kustomization(
                "web",
                "flux-system",
                [item(2), item(1)],
                condition("True", "ReconciliationSucceeded", "Applied", at(120)),
            )
        )
        [run] = harvest_source(flux(kube.url, monkeypatch))
    assert run.status == "succeeded", run.errors
    entry = Entry.objects.get(kind="flux.kustomization")
    assert entry.subject == "flux:flux-system/Kustomization/web"
    rows = list(Deployment.objects.order_by("started_at"))
    assert [(r.environment, r.application, r.revision, r.outcome, r.controller) for r in rows] == [
        ("prod", "web", rev(1), "succeeded", "flux"),
        ("prod", "web", rev(2), "succeeded", "flux"),
    ]
    assert rows[1].finished_at == at(120) and rows[1].automated is True
    assert [a.revision for a in running_at("prod", at(100)).applications] == [rev(1)]


def test_it_marks_a_failed_health_check_as_degraded(db, monkeypatch):
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(kustomization("web", "apps", [item(1, "HealthCheckFailed")]))
        harvest_source(flux(kube.url, monkeypatch))
    assert Deployment.objects.get().outcome == "degraded"


def test_it_records_helm_releases_and_their_rollback(db, monkeypatch):
    history = [
        helm_snapshot(3, "6.5.0", at(180)),
        helm_snapshot(2, "6.6.0", at(120)),
        helm_snapshot(1, "6.5.0", at(60)),
    ]
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(helmrelease("podinfo", "apps", history))
        harvest_source(flux(kube.url, monkeypatch))
    rows = list(Deployment.objects.order_by("started_at").values_list("external_id", "revision", "outcome"))
    assert rows == [("v1", "6.5.0", "succeeded"), ("v2", "6.6.0", "succeeded"), ("v3", "6.5.0", "rolled_back")]


def test_it_records_a_failed_helm_release(db, monkeypatch):
    history = [helm_snapshot(2, "7.0.0", at(120), status="failed"), helm_snapshot(1, "6.5.0", at(60))]
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(helmrelease("podinfo", "apps", history))
        harvest_source(flux(kube.url, monkeypatch))
    assert Deployment.objects.get(external_id="v2").outcome == "failed"
    # A failed release leaves the previous one running.
    assert [a.revision for a in running_at("prod", at(200)).applications] == ["6.5.0"]


def test_it_goes_on_when_a_cluster_has_no_helm_controller(db, monkeypatch):
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.served.discard("HelmRelease")
        kube.add(kustomization("web", "apps", [item(1)]))
        [run] = harvest_source(flux(kube.url, monkeypatch))
    assert run.status == "succeeded"
    assert Entry.objects.get(kind="harvest.run").data["observed"]["helmreleases_missing"] is True
    assert Deployment.objects.count() == 1


def test_it_lists_only_the_configured_namespaces(db, monkeypatch):
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(kustomization("web", "apps", [item(1)]))
        kube.add(kustomization("infra", "flux-system", [item(2)]))
        runs = harvest_source(flux(kube.url, monkeypatch, namespaces=["apps"]))
        paths = sorted(p for _, p in kube.server.requests)
    assert [r.target for r in runs] == ["apps"]
    assert paths == [
        "/apis/helm.toolkit.fluxcd.io/v2/namespaces/apps/helmreleases",
        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/apps/kustomizations",
    ]
    assert list(Deployment.objects.values_list("application", flat=True)) == ["web"]


def test_it_maps_objects_by_namespace_and_cluster(db, monkeypatch):
    rules = [{"match": {"cluster": "eu-*", "namespace": "apps"}, "environment": "prod-eu", "application": "{name}"}]
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(kustomization("web", "apps", [item(1)]))
        kube.add(kustomization("infra", "flux-system", [item(2)]))
        harvest_source(flux(kube.url, monkeypatch, environment="", environments=rules))
    assert set(Deployment.objects.values_list("environment", "application")) == {
        ("prod-eu", "web"),
        ("unknown", "infra"),
    }


def test_it_adds_no_snapshot_when_only_counters_moved(db, monkeypatch):
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(kustomization("web", "apps", [item(1)]))
        source = flux(kube.url, monkeypatch)
        harvest_source(source)
        later = item(1)
        later["lastReconciled"], later["totalReconciliations"] = "2026-03-02T09:00:00Z", 40
        kube.add(kustomization("web", "apps", [later]))
        [run] = harvest_source(source)
    assert run.appended == 0
    assert Entry.objects.filter(kind="flux.kustomization").count() == 1


def test_it_records_a_gap_when_five_reconciliations_rolled_over(db, monkeypatch):
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        source = flux(kube.url, monkeypatch)
        kube.add(kustomization("web", "apps", [item(1)]))
        harvest_source(source)
        kube.add(kustomization("web", "apps", [item(n) for n in range(8, 3, -1)]))  # 2 and 3 never seen
        [run] = harvest_source(source)
    assert run.status == "partial"
    gap = DeploymentGap.objects.get()
    assert (gap.subject, gap.missing, gap.after, gap.before) == (
        "flux:apps/Kustomization/web",
        ["unknown"],
        at(60),
        at(240),
    )


def test_it_fails_the_run_when_the_api_server_refuses_the_token(db, monkeypatch):
    with KubernetesSandbox("other-token") as kube:
        kube.add(kustomization("web", "apps", [item(1)]))
        run = harvest_target(flux(kube.url, monkeypatch), "*")
    assert run.status == "failed"
    assert "HTTP 401" in run.errors[0] and KUBE_TOKEN not in run.errors[0]
    assert not Deployment.objects.exists()


def test_it_fails_the_run_when_the_api_server_is_unreachable(db, monkeypatch):
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        url = kube.url
    run = harvest_target(flux(url, monkeypatch), "*")
    assert run.status == "failed"
    assert "cannot connect" in run.errors[0]
    assert not Entry.objects.exclude(kind="harvest.run").exists()


def test_it_reads_kustomizations_that_keep_no_history(db, monkeypatch):
    failing = condition("False", "ReconciliationFailed", "kustomize build failed", at(300))
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        old = kustomization("web", "apps", [], condition("True", "ReconciliationSucceeded", "Applied", at(60)))
        old["status"]["lastAppliedRevision"] = old["status"]["lastAttemptedRevision"] = rev(1)
        kube.add(old)
        source = flux(kube.url, monkeypatch)
        harvest_source(source)
        old["status"]["lastAttemptedRevision"], old["status"]["conditions"] = rev(2), [failing]
        kube.add(old)
        harvest_source(source)
    rows = list(Deployment.objects.order_by("started_at").values_list("revision", "outcome"))
    assert sorted(rows) == sorted([(rev(1), "succeeded"), (rev(2), "failed")])
    assert Deployment.objects.get(revision=rev(2)).message == "kustomize build failed"
