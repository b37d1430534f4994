"""Evidence gaps (controller history that rolled over unseen) are derived from the ledger alone.

Harvesters record what the controller listed; the gap projector decides. So a projector that
lags behind harvests or webhook deliveries changes nothing, and a rebuild gives the same rows.
Here the projector runs only when a test calls `project` (no `projected`).
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from devkit.sandbox.argocd import ArgoCDSandbox, application, history_item, notification_body
from devkit.sandbox.kubernetes import (
    KubernetesSandbox,
    helm_snapshot,
    helmrelease,
    kustomization,
    kustomization_history_item,
)
from evidence.readmodels.models import DeploymentGap
from evidence.readmodels.projectors import project_pending, rebuild_all
from evidence.sources.harvest import harvest_source
from ledger.append import append_entry
from ledger.envelope import Record
from ledger.models import Entry
from tests.support.gitops import ARGO_TOKEN, KUBE_TOKEN, T0, argocd_source, at, kube_source, record_argocd, sha

REPO = "https://git.example.test/acme/payments-deploy.git"
ARGO_HOOK_TOKEN = "notifications-token-prod"
FLUX_SECRET = "flux-provider-token"


def deploys(first: int, last: int) -> list[dict]:
    """History items first..last, one an hour (Argo CD keeps the last ten)."""
    return [history_item(i, sha(i), at(60 * i), at(60 * i + 1), REPO) for i in range(first, last + 1)]


def payments(first: int, last: int) -> dict:
    return application("payments", history=deploys(first, last))


def gaps() -> list[tuple]:
    """Every gap row as an auditor sees it (the row id aside)."""
    rows = DeploymentGap.objects.order_by("entry_seq")
    return list(
        rows.values_list("controller", "source", "subject", "environment", "application", "missing", "after", "before")
    )


def cited(gap: DeploymentGap) -> tuple[str, int]:
    entry = Entry.objects.get(seq=gap.entry_seq)
    return entry.kind, entry.data["history"]["id"]


def project() -> None:
    project_pending()


@pytest.fixture
def argo(db):
    with ArgoCDSandbox(ARGO_TOKEN) as sandbox:
        yield sandbox


def test_it_finds_the_same_gap_whether_the_projector_ran_between_harvests_or_not(argo, monkeypatch):
    lagging = argocd_source(argo.url, monkeypatch, name="argo-lagging")
    live = argocd_source(argo.url, monkeypatch, name="argo-live")
    argo.put(payments(1, 10))
    harvest_source(lagging)
    argo.put(payments(13, 22))
    harvest_source(lagging)  # nothing projected between the two harvests
    argo.put(payments(1, 10))
    harvest_source(live)
    project()
    argo.put(payments(13, 22))
    harvest_source(live)
    project()
    by_source = {row[1]: row[:1] + row[2:] for row in gaps()}
    assert by_source["argo-lagging"] == by_source["argo-live"]
    assert by_source["argo-live"] == ("argocd", "argocd:payments", "prod", "payments", [11, 12], at(601), at(780))
    assert [cited(g) for g in DeploymentGap.objects.all()] == [("argocd.deployment", 13)] * 2


def test_it_makes_no_gap_when_the_projector_lagged_behind_the_webhook(argo, client, monkeypatch, settings):
    settings.ARGOCD_WEBHOOK_TOKEN = ARGO_HOOK_TOKEN
    source = argocd_source(argo.url, monkeypatch)
    argo.put(payments(1, 10))
    harvest_source(source)
    project()
    for last in range(11, 23):  # each sync notified; none projected before the next harvest
        body = notification_body(payments(last - 9, last))
        response = client.post(
            "/hooks/argocd/", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {ARGO_HOOK_TOKEN}"
        )
        assert response.status_code == 202
    argo.put(payments(13, 22))
    [run] = harvest_source(source)
    project()
    assert run.status == "succeeded", run.errors  # the ledger holds 11 and 12: nothing unseen
    assert gaps() == []
    assert not Entry.objects.filter(kind="deploy.gap").exists()


def test_it_records_what_the_history_listed_and_never_a_gap_entry(argo, monkeypatch):
    source = argocd_source(argo.url, monkeypatch)
    argo.put(payments(1, 10))
    harvest_source(source)
    argo.put(payments(13, 22))
    [run] = harvest_source(source)
    assert run.status == "partial"
    assert run.errors == ["payments: history items [11, 12] rolled over unseen"]
    entry = Entry.objects.get(kind="harvest.run", idempotency_key=run.entry_key)
    assert entry.data["observed"]["history"] == {"payments": {"ids": [13, 22], "rolled_over": [11, 12]}}
    assert not Entry.objects.filter(kind="deploy.gap").exists()
    assert gaps() == []  # nothing projected yet: the harvest wrote no conclusion


def test_it_keeps_one_gap_for_one_rollover_over_later_harvests(argo, monkeypatch):
    source = argocd_source(argo.url, monkeypatch)
    for first, last in ((1, 10), (13, 22), (13, 22), (15, 24), (16, 25)):
        argo.put(payments(first, last))
        harvest_source(source)
        project()
    [gap] = DeploymentGap.objects.all()
    assert (gap.missing, gap.after, gap.before) == ([11, 12], at(601), at(780))
    assert cited(gap) == ("argocd.deployment", 13)


def test_it_drops_the_gap_when_a_late_delivery_holds_what_rolled_over(argo, monkeypatch):
    source = argocd_source(argo.url, monkeypatch)
    argo.put(payments(1, 10))
    harvest_source(source)
    argo.put(payments(13, 22))
    harvest_source(source)
    project()
    assert [g[5] for g in gaps()] == [[11, 12]]
    record_argocd(payments(3, 12), "prod")  # 11 and 12 recorded after all (a late producer)
    project()
    assert gaps() == []


def test_it_rebuilds_the_same_gap_rows(argo, monkeypatch):
    source = argocd_source(argo.url, monkeypatch)
    for first, last in ((1, 10), (13, 22), (25, 34)):
        argo.put(payments(first, last))
        harvest_source(source)
    project()
    before = gaps()
    assert [g[5] for g in before] == [[11, 12], [23, 24]]
    rebuild_all()
    assert gaps() == before


def test_it_still_shows_a_gap_an_older_harvester_recorded(db):
    """Ledgers from before gaps were derived hold `deploy.gap` entries; each stays one gap."""
    record_argocd(payments(1, 10), "prod")
    record_argocd(payments(13, 22), "prod")
    data = {
        "controller": "argocd",
        "environment": "prod",
        "application": "payments",
        "argocd_application": "payments",
        "missing": [11, 12],
        "covered_by_webhook": [],
        "after": "2026-03-01T19:01:00Z",
        "before": "2026-03-01T22:00:00Z",
    }
    old = append_entry(
        Record(
            "deploy.gap", "argo-prod", "argocd:payments", "argocd:argo-prod:gap:payments:11-12", data, observed_at=T0
        )
    )
    project()
    [gap] = DeploymentGap.objects.all()
    assert (gap.entry_seq, gap.missing) == (old.seq, [11, 12])
    rebuild_all()
    assert list(DeploymentGap.objects.values_list("entry_seq", flat=True)) == [old.seq]


def flux_event(version: int) -> bytes:
    """helm-controller's event for release v<version> of apps/podinfo."""
    body = {
        "involvedObject": {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "name": "podinfo",
            "namespace": "apps",
            "uid": "uid-hr-podinfo",
        },
        "metadata": {"helm.toolkit.fluxcd.io/revision": f"6.0.{version}"},
        "severity": "info",
        "reason": "UpgradeSucceeded",
        "message": f"Helm upgrade succeeded for release apps/podinfo.v{version} with chart podinfo@6.0.{version}",
        "reportingController": "helm-controller",
        "timestamp": at(60 * version).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize(("notified", "missing"), [((2, 3), []), ((2,), [[3]])])
def test_it_derives_helm_gaps_from_the_ledger_whenever_the_projector_runs(
    db, client, monkeypatch, settings, notified, missing
):
    settings.FLUX_WEBHOOK_TOKEN = FLUX_SECRET
    source = kube_source("http://127.0.0.1:9", monkeypatch, "flux", "flux-prod")
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        source.url = kube.url
        source.save()
        kube.add(helmrelease("podinfo", "apps", [helm_snapshot(1, "6.0.1", at(60))]))
        harvest_source(source)
        for version in notified:  # delivered, not yet projected when the next harvest runs
            body = flux_event(version)
            signature = "sha256=" + hmac.new(FLUX_SECRET.encode(), body, hashlib.sha256).hexdigest()
            response = client.post(
                "/hooks/flux/", data=body, content_type="application/json", HTTP_X_SIGNATURE=signature
            )
            assert response.status_code == 202
        kube.add(helmrelease("podinfo", "apps", [helm_snapshot(v, f"6.0.{v}", at(60 * v)) for v in range(9, 3, -1)]))
        [run] = harvest_source(source)
    project()
    assert [g[5] for g in gaps()] == missing
    assert run.status == ("partial" if missing else "succeeded"), run.errors
    assert not Entry.objects.filter(kind="deploy.gap").exists()
    before = gaps()
    rebuild_all()
    assert gaps() == before


def kustomization_event(n: int) -> bytes:
    """kustomize-controller's event for revision n of apps/web, applied at hour n."""
    body = {
        "involvedObject": {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "name": "web",
            "namespace": "apps",
            "uid": "uid-ks-web",
        },
        "metadata": {"kustomize.toolkit.fluxcd.io/revision": f"main@sha1:{sha(n)}"},
        "severity": "info",
        "reason": "ReconciliationSucceeded",
        "message": "Reconciliation finished in 2.1s, next run in 10m0s",
        "reportingController": "kustomize-controller",
        "timestamp": at(60 * n).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json.dumps(body).encode()


def reconciled(n: int) -> dict:
    return kustomization_history_item(f"main@sha1:{sha(n)}", "sha256:" + f"{n:064x}", at(60 * n), at(60 * n + 30))


@pytest.mark.parametrize(("notified", "missing"), [((2, 3), []), ((), [["unknown"]])])
def test_it_derives_kustomization_gaps_from_the_ledger_whenever_the_projector_runs(
    db, client, monkeypatch, settings, notified, missing
):
    settings.FLUX_WEBHOOK_TOKEN = FLUX_SECRET
    source = kube_source("http://127.0.0.1:9", monkeypatch, "flux", "flux-prod")
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        source.url = kube.url
        source.save()
        kube.add(kustomization("web", "apps", [reconciled(1)]))
        harvest_source(source)
        for n in notified:  # applied between harvests, dropped from status.history, not yet projected
            body = kustomization_event(n)
            signature = "sha256=" + hmac.new(FLUX_SECRET.encode(), body, hashlib.sha256).hexdigest()
            response = client.post(
                "/hooks/flux/", data=body, content_type="application/json", HTTP_X_SIGNATURE=signature
            )
            assert response.status_code == 202
        kube.add(kustomization("web", "apps", [reconciled(n) for n in range(8, 3, -1)]))
        [run] = harvest_source(source)
    project()
    assert [g[5] for g in gaps()] == missing
    assert run.status == ("partial" if missing else "succeeded"), run.errors
    if missing:
        [gap] = DeploymentGap.objects.all()
        assert (gap.after, gap.before, Entry.objects.get(seq=gap.entry_seq).kind) == (
            at(60),
            at(240),
            "flux.kustomization",
        )
    before = gaps()
    rebuild_all()
    assert gaps() == before
