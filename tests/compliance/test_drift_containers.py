"""Drift per container name, three ways: match, drift, unknown; sidecars, init and ephemeral containers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devkit.sandbox.argocd import workload
from devkit.sandbox.kubernetes import KubernetesSandbox, pod
from evidence.compliance.custody import build_custody
from evidence.compliance.running import running_at
from evidence.readmodels.models import Deployment
from evidence.sources.harvest import harvest_source
from ledger.append import append_entries
from tests.support.gitops import at, digest, kube_source
from tests.support.records import IMAGE, argocd_records, pods_record

pytestmark = pytest.mark.usefixtures("projected")

APP, MIGRATE, PROXY = f"{IMAGE}@{digest(1)}", f"{IMAGE}-migrations@{digest(2)}", "docker.io/istio/proxyv2:1.22"
LABELS = {"app.kubernetes.io/instance": "payments"}


def deploy_with_init() -> Deployment:
    manifest = workload("payments", "payments", [("app", APP)], init=[("migrate", MIGRATE)])
    append_entries(argocd_records([(1, 1, 10)], {1: [manifest]}, seen=12))
    return Deployment.objects.get()


def harvest_pods(monkeypatch, containers, init=None, ephemeral=None, **config) -> None:
    with KubernetesSandbox("kube-api-token-for-tests") as kube:
        started = at(11)  # rolled out by the sync
        kube.add(pod("payments-abc", "payments", LABELS, containers, init=init, ephemeral=ephemeral, started=started))
        source = kube_source(kube.url, monkeypatch, "kubernetes", "pods-prod", namespaces=["payments"], **config)
        [run] = harvest_source(source)
    assert run.status == "succeeded", run.errors


def running_link(deployment: Deployment):
    return next(link for link in build_custody(deployment).links if link.rule == "running")


def test_it_matches_each_container_by_name_with_init_containers_and_a_declared_sidecar(db, monkeypatch):
    row = deploy_with_init()
    containers = [("app", APP, APP), ("istio-proxy", PROXY, f"docker.io/istio/proxyv2@{digest(9)}")]
    harvest_pods(
        monkeypatch, containers, init=[("migrate", MIGRATE, MIGRATE)], expected_sidecars={"prod": ["istio-proxy"]}
    )
    [app] = running_at("prod", datetime.now(UTC)).applications
    states = {(c["container"], c["type"]): c["state"] for c in app.containers}
    assert states == {
        ("app", "container"): "match",
        ("migrate", "init"): "match",
        ("istio-proxy", "container"): "match",
    }
    assert (app.drift_state, app.drift) == ("match", False)
    assert running_link(row).status == "satisfied"


def test_it_calls_an_undeclared_sidecar_drift(db, monkeypatch):
    row = deploy_with_init()
    harvest_pods(monkeypatch, [("app", APP, APP), ("istio-proxy", PROXY, f"docker.io/istio/proxyv2@{digest(9)}")])
    [app] = running_at("prod", datetime.now(UTC)).applications
    assert (app.drift_state, app.drift) == ("drift", True)
    link = running_link(row)
    assert (link.status, link.codes) == ("violated", ["drift"])
    assert "istio-proxy" in link.explanation


def test_it_calls_a_container_running_another_digest_under_its_name_drift(db, monkeypatch):
    row = deploy_with_init()
    harvest_pods(monkeypatch, [("app", APP, f"{IMAGE}@{digest(5)}")])
    [app] = running_at("prod", datetime.now(UTC)).applications
    assert [(c["container"], c["state"]) for c in app.containers] == [("app", "drift")]
    assert running_link(row).codes == ["drift"]


def test_it_calls_an_ephemeral_debugging_container_drift(db, monkeypatch):
    row = deploy_with_init()
    harvest_pods(monkeypatch, [("app", APP, APP)], ephemeral=[("debugger", "busybox:1.36", f"busybox@{digest(8)}")])
    [app] = running_at("prod", datetime.now(UTC)).applications
    assert {(c["container"], c["type"], c["state"]) for c in app.containers} == {
        ("app", "container", "match"),
        ("debugger", "ephemeral", "drift"),
    }
    assert running_link(row).codes == ["drift"]


def test_it_says_unknown_not_no_drift_when_no_digest_is_known(db, monkeypatch):
    append_entries(argocd_records([(1, 1, 10)], {1: f"{IMAGE}:1.4"}, seen=12))  # a tag nobody resolved
    row = Deployment.objects.get()
    harvest_pods(monkeypatch, [("app", f"{IMAGE}:1.4", "sha256:" + "e" * 64)])  # a local image id, no digest
    [app] = running_at("prod", datetime.now(UTC)).applications
    assert (app.digests, app.drift_state, app.drift) == ([], "unknown", None)
    link = running_link(row)
    assert (link.status, link.codes) == ("not_evidenced", ["evidence_gap"])
    assert "drift" not in {f.code for f in build_custody(row).findings}


def test_it_puts_drift_on_the_deployment_live_when_the_pod_started_not_on_later_ones(db):
    refs = {1: f"{IMAGE}@{digest(1)}", 2: f"{IMAGE}@{digest(2)}"}
    append_entries(argocd_records([(1, 1, 10), (2, 2, 40)], refs, seen=100))
    stray = ("debug", f"{IMAGE}:debug", digest(6))  # started by hand at minute 20, while the first was live
    append_entries(
        [pods_record(25, [("app", refs[1], digest(1))], n=0, started=11), pods_record(25, [stray], 9, started=20)]
    )
    append_entries(
        [pods_record(45, [("app", refs[2], digest(2))], n=1, started=41), pods_record(45, [stray], 9, started=20)]
    )
    first, second = Deployment.objects.order_by("started_at")
    assert "drift" in {f.code for f in build_custody(first).findings}
    assert "drift" not in {f.code for f in build_custody(second).findings}
    assert running_link(second).status == "satisfied"


def test_it_calls_an_unexplained_digest_during_a_history_gap_an_evidence_gap_not_drift(db):
    refs = {1: f"{IMAGE}@{digest(1)}", 4: f"{IMAGE}@{digest(4)}"}
    append_entries(argocd_records([(1, 1, 10), (4, 4, 40)], refs, seen=100))  # history ids 2 and 3 never seen
    unseen = ("app", f"{IMAGE}:2.0", digest(2))  # what an unseen sync rolled out at minute 20
    append_entries([pods_record(25, [unseen], n=3, started=20)])
    first = Deployment.objects.order_by("started_at").first()
    link = running_link(first)
    assert (link.status, link.codes) == ("not_evidenced", ["evidence_gap"])
    assert "drift" not in {f.code for f in build_custody(first).findings}
    [app] = running_at("prod", at(30)).applications
    assert (app.gap, app.drift_state, app.drift) == (True, "unknown", None)
