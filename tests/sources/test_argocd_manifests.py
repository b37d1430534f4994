"""Argo CD manifests at each history revision: every deployment names its images, not just the latest."""

from __future__ import annotations

import pytest

from devkit.sandbox.argocd import ArgoCDSandbox, application, history_item, multi_source_item, workload
from evidence.readmodels.models import Deployment, DeploymentContainer
from evidence.sources.harvest import harvest_source
from ledger.models import Entry
from tests.support.gitops import ARGO_TOKEN, argocd_source, at, digest, sha

pytestmark = pytest.mark.usefixtures("projected")

REPO = "https://git.example.test/acme/payments-deploy.git"
CHART = "https://charts.example.test/payments"
IMAGE = "registry.example.test/acme/payments"


def payments(history, **kwargs):
    return application("payments", project="shop", namespace="payments", repo=REPO, history=history, **kwargs)


def test_it_records_the_images_of_every_history_revision_not_only_the_latest(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(
            payments(
                [history_item(1, sha(1), at(0), at(1), REPO), history_item(2, sha(2), at(60), at(62), REPO)],
                images=[f"{IMAGE}@{digest(2)}"],  # the summary: only what runs now
            )
        )
        argo.put_manifests("payments", sha(1), [workload("payments", "payments", [("app", f"{IMAGE}@{digest(1)}")])])
        argo.put_manifests("payments", sha(2), [workload("payments", "payments", [("app", f"{IMAGE}@{digest(2)}")])])
        [run] = harvest_source(argocd_source(argo.url, monkeypatch))
        asked = [p for _, p in argo.server.requests if p.endswith("/manifests")]
    assert run.status == "succeeded", run.errors
    assert len(asked) == 2
    rows = list(Deployment.objects.order_by("started_at"))
    assert [r.image_digests for r in rows] == [[digest(1)], [digest(2)]]
    first = rows[0].images.get()
    assert (first.origin, Entry.objects.get(seq=first.entry_seq).kind) == ("controller", "argocd.manifests")


def test_it_asks_each_history_item_once(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)]))
        argo.put_manifests("payments", sha(1), [workload("payments", "payments", [("app", f"{IMAGE}:1.0")])])
        source = argocd_source(argo.url, monkeypatch)
        harvest_source(source)
        [again] = harvest_source(source)
        asked = [p for _, p in argo.server.requests if p.endswith("/manifests")]
    assert (len(asked), again.appended) == (1, 0)


def test_it_asks_a_multi_source_application_per_source_position_and_records_both_sources(db, monkeypatch):
    sources = [{"repoURL": REPO, "path": "deploy"}, {"repoURL": CHART, "chart": "payments"}]
    app = payments([multi_source_item(1, [sha(1), "4.2.0"], at(0), at(1), sources)], sources=sources)
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(app)
        argo.put_manifests("payments", sha(1), [workload("api", "payments", [("api", f"{IMAGE}@{digest(1)}")])], 1)
        argo.put_manifests("payments", "4.2.0", [workload("worker", "payments", [("w", f"{IMAGE}@{digest(2)}")])], 2)
        [run] = harvest_source(argocd_source(argo.url, monkeypatch))
    assert run.status == "succeeded", run.errors
    entry = Entry.objects.get(kind="argocd.manifests")
    assert (entry.data["revisions"], entry.data["source_positions"]) == ([sha(1), "4.2.0"], [1, 2])
    row = Deployment.objects.get()
    assert row.revision == f"{sha(1)},4.2.0"
    assert row.image_digests == [digest(1), digest(2)]


def test_it_records_init_containers_and_tag_only_references_unresolved_until_something_resolves_them(db, monkeypatch):
    manifest = workload(
        "payments", "payments", [("app", f"{IMAGE}:1.4")], init=[("migrate", f"{IMAGE}-migrations:1.4")]
    )
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)]))
        argo.put_manifests("payments", sha(1), [manifest])
        harvest_source(argocd_source(argo.url, monkeypatch))
    rows = {c.container: c for c in DeploymentContainer.objects.all()}
    assert (rows["migrate"].container_type, rows["app"].container_type) == ("init", "container")
    assert (rows["app"].repository, rows["app"].tag, rows["app"].digest) == (
        "registry.example.test/acme/payments",
        "1.4",
        "",
    )
    assert Deployment.objects.get().image_digests == []  # unknown, never guessed


def test_it_keeps_secrets_out_of_the_ledger(db, monkeypatch):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "c2VjcmV0"}}
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)]))
        argo.put_manifests("payments", sha(1), [secret, workload("payments", "payments", [("app", f"{IMAGE}:1")])])
        harvest_source(argocd_source(argo.url, monkeypatch))
    entry = Entry.objects.get(kind="argocd.manifests")
    assert b"c2VjcmV0" not in bytes(entry.payload)
    assert [w["kind"] for w in entry.data["workloads"]] == ["Deployment"]


def test_it_reports_a_revision_argo_cd_cannot_render_and_asks_again_next_time(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)]))
        argo.unresolvable.add(sha(1))
        source = argocd_source(argo.url, monkeypatch)
        [run] = harvest_source(source)
        argo.unresolvable.clear()
        argo.put_manifests("payments", sha(1), [workload("payments", "payments", [("app", f"{IMAGE}@{digest(1)}")])])
        [again] = harvest_source(source)
    assert run.status == "partial" and "manifests of history item 1" in run.errors[0]
    assert again.status == "succeeded", again.errors
    assert Deployment.objects.get().image_digests == [digest(1)]
