"""notification-controller events at /hooks/flux/ through the generic-hmac provider."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from devkit.sandbox.kubernetes import KubernetesSandbox, kustomization, kustomization_history_item
from evidence.readmodels.models import Deployment, DeploymentGap
from evidence.sources.harvest import harvest_source
from ledger.models import Entry
from tests.support.gitops import KUBE_TOKEN, at, kube_source, sha

pytestmark = pytest.mark.usefixtures("projected")
SECRET = "flux-provider-token"


def event(n: int, reason: str = "ReconciliationSucceeded", severity: str = "info", minutes: int | None = None) -> bytes:
    """An event as notification-controller POSTs it for revision n of apps/web."""
    body = {
        "involvedObject": {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "name": "web",
            "namespace": "apps",
            "uid": "uid-ks-web",
        },
        "metadata": {"kustomize.toolkit.fluxcd.io/revision": f"main@sha1:{sha(n)}"},
        "severity": severity,
        "reason": reason,
        "message": "Reconciliation finished in 2.1s, next run in 10m0s" if severity == "info" else "apply failed",
        "reportingController": "kustomize-controller",
        "reportingInstance": "kustomize-controller-6b9d8c7f5-x2l9p",
        "timestamp": at(60 * n if minutes is None else minutes).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json.dumps(body).encode()


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, body: bytes, signature: str | None):
    headers = {"HTTP_X_SIGNATURE": signature} if signature is not None else {}
    return client.post("/hooks/flux/", data=body, content_type="application/json", **headers)


@pytest.fixture
def source(db, monkeypatch, settings):
    settings.FLUX_WEBHOOK_TOKEN = SECRET
    return kube_source("http://127.0.0.1:9", monkeypatch, "flux", "flux-prod")


def test_it_records_an_event_with_a_valid_signature(client, source):
    body = event(1)
    response = post(client, body, signed(body))
    assert response.status_code == 202, response.content
    entry = Entry.objects.get(kind="flux.event")
    assert (entry.source, entry.subject) == ("flux-prod", "flux:apps/Kustomization/web")
    assert entry.data["event"] == json.loads(body)  # kept as the controller sent it
    row = Deployment.objects.get()
    assert (row.environment, row.application, row.revision, row.outcome) == (
        "prod",
        "web",
        f"main@sha1:{sha(1)}",
        "succeeded",
    )


def test_it_refuses_a_wrong_signature_and_writes_nothing(client, source):
    body = event(1)
    response = post(client, body, signed(body, "not-the-secret"))
    assert response.status_code == 403
    assert not Entry.objects.exists() and not Deployment.objects.exists()


def test_it_refuses_a_signature_over_another_body(client, source):
    response = post(client, event(1), signed(event(2)))
    assert response.status_code == 403
    assert not Entry.objects.exists()


def test_it_refuses_an_event_without_a_signature(client, source):
    response = post(client, event(1), None)
    assert response.status_code == 401
    assert "X-Signature" in response.json()["detail"]
    assert not Entry.objects.exists()


def test_it_refuses_a_signature_in_another_form(client, source):
    body = event(1)
    response = post(client, body, signed(body).removeprefix("sha256="))
    assert response.status_code == 401
    assert not Entry.objects.exists()


def test_it_attributes_the_event_to_the_source_whose_secret_verified_it(client, source, monkeypatch):
    monkeypatch.setenv("FLUX_STAGING_SECRET", "staging-secret")
    kube_source(
        "http://127.0.0.1:9",
        monkeypatch,
        "flux",
        "flux-staging",
        environment="staging",
        webhook_secret_env="FLUX_STAGING_SECRET",
    )
    body = event(1)
    assert post(client, body, signed(body, "staging-secret")).json()["source"] == "flux-staging"
    assert Deployment.objects.get().environment == "staging"


def test_it_records_a_failed_reconciliation(client, source):
    body = event(2, reason="ReconciliationFailed", severity="error")
    assert post(client, body, signed(body)).status_code == 202
    row = Deployment.objects.get()
    assert (row.outcome, row.message) == ("failed", "apply failed")


def test_it_merges_events_and_history_for_one_revision(client, source):
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        source.url = kube.url  # the same source harvests and receives events
        source.save()
        body = event(1, minutes=65)  # the event comes after the first reconciliation of revision 1
        assert post(client, body, signed(body)).status_code == 202
        item = kustomization_history_item(f"main@sha1:{sha(1)}", "sha256:" + "1" * 64, at(60), at(90))
        kube.add(kustomization("web", "apps", [item]))
        harvest_source(source)
    row = Deployment.objects.get()
    assert row.started_at == at(60)
    kinds = sorted(Entry.objects.filter(seq__in=row.entry_seqs).values_list("kind", flat=True))
    assert kinds == ["flux.event", "flux.kustomization"]


def test_it_loses_nothing_when_events_covered_a_rollover(client, source):
    def item(n):
        return kustomization_history_item(f"main@sha1:{sha(n)}", "sha256:" + f"{n:064x}", at(60 * n), at(60 * n + 30))

    with KubernetesSandbox(KUBE_TOKEN) as kube:
        source.url = kube.url
        source.save()
        kube.add(kustomization("web", "apps", [item(1)]))
        harvest_source(source)
        for n in (2, 3):  # applied between harvests, then dropped from status.history
            body = event(n)
            assert post(client, body, signed(body)).status_code == 202
        kube.add(kustomization("web", "apps", [item(n) for n in range(8, 3, -1)]))
        [run] = harvest_source(source)
    assert run.status == "succeeded", run.errors
    assert not DeploymentGap.objects.exists()
    assert Deployment.objects.count() == 8


def helm_event(version: int, chart: str) -> bytes:
    body = {
        "involvedObject": {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "name": "podinfo",
            "namespace": "apps",
            "uid": "uid-hr-podinfo",
        },
        "metadata": {"helm.toolkit.fluxcd.io/revision": chart},
        "severity": "info",
        "reason": "UpgradeSucceeded",
        "message": f"Helm upgrade succeeded for release apps/podinfo.v{version} with chart podinfo@{chart}",
        "reportingController": "helm-controller",
        "timestamp": at(60 * version).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize(("notified", "gap"), [((2, 3), False), ((2,), True)])
def test_it_records_a_helm_gap_only_for_releases_nothing_saw(client, source, notified, gap):
    from devkit.sandbox.kubernetes import helm_snapshot, helmrelease

    with KubernetesSandbox(KUBE_TOKEN) as kube:
        source.url = kube.url
        source.save()
        kube.add(helmrelease("podinfo", "apps", [helm_snapshot(1, "6.0.1", at(60))]))
        harvest_source(source)
        for version in notified:
            body = helm_event(version, f"6.0.{version}")
            assert post(client, body, signed(body)).status_code == 202
        kube.add(helmrelease("podinfo", "apps", [helm_snapshot(v, f"6.0.{v}", at(60 * v)) for v in range(9, 3, -1)]))
        harvest_source(source)
    assert DeploymentGap.objects.exists() is gap
    if gap:
        assert DeploymentGap.objects.get().missing == [3]
    seen = {int(v.removeprefix("v")) for v in Deployment.objects.values_list("external_id", flat=True)}
    assert seen == {1, *notified, 4, 5, 6, 7, 8, 9}
