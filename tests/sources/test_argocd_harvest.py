"""Harvesting Argo CD over its REST API: history, operations, images, and what breaks."""

from __future__ import annotations

import pytest

from devkit.sandbox.argocd import ArgoCDSandbox, application, history_item, operation_state
from evidence.readmodels.models import Deployment, DeploymentImage
from evidence.sources.harvest import harvest_source, harvest_target
from evidence.sources.models import HarvestCursor
from ledger.models import Entry
from tests.support.gitops import ARGO_TOKEN, argocd_source, at, digest, sha

pytestmark = pytest.mark.usefixtures("projected")

REPO = "https://git.example.test/acme/payments-deploy.git"


def payments(history, **kwargs):
    return application("payments", project="shop", namespace="payments", repo=REPO, history=history, **kwargs)


def test_it_records_each_history_item_as_one_deployment(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(
            payments(
                [
                    history_item(1, sha(1), at(0), at(1), REPO, user="alice@example.test"),
                    history_item(2, sha(2), at(60), at(62), REPO),
                ],
                images=[f"registry.example.test/acme/payments@{digest(2)}"],
            )
        )
        source = argocd_source(argo.url, monkeypatch)
        [run] = harvest_source(source)
    assert run.status == "succeeded", run.errors
    rows = list(Deployment.objects.order_by("started_at"))
    assert [(r.environment, r.application, r.revision, r.outcome) for r in rows] == [
        ("prod", "payments", sha(1), "succeeded"),
        ("prod", "payments", sha(2), "succeeded"),
    ]
    assert (rows[0].initiated_by, rows[0].automated) == ("alice@example.test", False)
    assert (rows[1].initiated_by, rows[1].automated) == ("automation", True)
    assert rows[1].started_at == at(60) and rows[1].finished_at == at(62)
    assert rows[1].image_digests == [digest(2)]  # the live images belong to the latest deployment
    assert rows[0].image_digests == []
    assert DeploymentImage.objects.get(digest=digest(2)).deployment == rows[1]
    kinds = set(Entry.objects.values_list("kind", flat=True))
    assert {"argocd.application", "argocd.deployment", "harvest.run"} <= kinds
    for row in rows:
        cited = Entry.objects.filter(seq__in=row.entry_seqs)
        assert any(e.kind == "argocd.deployment" and e.data["history"]["id"] == int(row.external_id) for e in cited)


def test_it_adds_nothing_when_harvested_again(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)]))
        source = argocd_source(argo.url, monkeypatch)
        harvest_source(source)
        entries = Entry.objects.exclude(kind="harvest.run").count()
        [run] = harvest_source(source)
    assert run.appended == 0
    assert Entry.objects.exclude(kind="harvest.run").count() == entries
    assert Deployment.objects.count() == 1


def test_it_records_a_failed_sync_that_history_drops(db, monkeypatch):
    failed = operation_state("Failed", sha(2), at(60), at(61), "one or more objects failed to apply", user="bob")
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)], operation=failed))
        harvest_source(argocd_source(argo.url, monkeypatch))
    row = Deployment.objects.get(revision=sha(2))
    assert (row.outcome, row.phase, row.initiated_by) == ("failed", "Failed", "bob")
    assert row.message == "one or more objects failed to apply"
    assert Entry.objects.get(seq=row.entry_seqs[0]).kind == "argocd.sync_operation"
    assert Deployment.objects.get(revision=sha(1)).outcome == "succeeded"


def test_it_merges_the_operation_into_the_history_item_it_produced(db, monkeypatch):
    done = operation_state("Succeeded", sha(1), at(0), at(1), "successfully synced", user="carol")
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)], operation=done))
        harvest_source(argocd_source(argo.url, monkeypatch))
    row = Deployment.objects.get()
    kinds = sorted(Entry.objects.filter(seq__in=row.entry_seqs).values_list("kind", flat=True))
    assert kinds == ["argocd.application", "argocd.deployment", "argocd.manifests", "argocd.sync_operation"]


def test_it_marks_a_redeployed_older_revision_as_rolled_back(db, monkeypatch):
    history = [
        history_item(1, sha(1), at(0), at(1), REPO),
        history_item(2, sha(2), at(60), at(61), REPO),
        history_item(3, sha(1), at(120), at(121), REPO, user="alice@example.test"),
    ]
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments(history))
        harvest_source(argocd_source(argo.url, monkeypatch))
    outcomes = list(Deployment.objects.order_by("started_at").values_list("external_id", "outcome"))
    assert outcomes == [("1", "succeeded"), ("2", "succeeded"), ("3", "rolled_back")]


def test_it_marks_a_deployment_left_degraded(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)], health="Degraded"))
        harvest_source(argocd_source(argo.url, monkeypatch))
    assert Deployment.objects.get().outcome == "degraded"


def test_it_maps_applications_to_environments_by_rule(db, monkeypatch):
    rules = [
        {
            "match": {"project": "shop", "namespace": "staging-*"},
            "environment": "staging",
            "application": "shop-{name}",
        },
        {"match": {"project": "shop"}, "environment": "prod", "application": "shop-{name}"},
    ]
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(
            application(
                "cart", project="shop", namespace="staging-cart", history=[history_item(1, sha(1), at(0), at(1), REPO)]
            )
        )
        argo.put(
            application("web", project="shop", namespace="web", history=[history_item(1, sha(2), at(0), at(1), REPO)])
        )
        argo.put(application("tools", project="ops", history=[history_item(1, sha(3), at(0), at(1), REPO)]))
        harvest_source(argocd_source(argo.url, monkeypatch, environment="", environments=rules))
    placed = set(Deployment.objects.values_list("environment", "application"))
    assert placed == {("staging", "shop-cart"), ("prod", "shop-web"), ("unknown", "tools")}


def test_it_reads_only_the_applications_it_is_told_to_watch(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)]))
        argo.put(application("other", history=[history_item(1, sha(2), at(0), at(1), REPO)]))
        runs = harvest_source(argocd_source(argo.url, monkeypatch, applications=["payments"]))
        paths = [p for _, p in argo.server.requests]
    assert [r.target for r in runs] == ["payments"]
    assert paths == ["/api/v1/applications/payments", "/api/v1/applications/payments/manifests"]
    assert set(Deployment.objects.values_list("application", flat=True)) == {"payments"}


def test_it_fails_the_run_and_keeps_the_cursor_when_argocd_is_unreachable(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        url = argo.url
    source = argocd_source(url, monkeypatch)  # the server is gone: connection refused
    run = harvest_target(source, "*")
    assert run.status == "failed"
    assert "cannot connect" in run.errors[0] and url in run.errors[0]
    assert not Entry.objects.exclude(kind="harvest.run").exists()
    assert not HarvestCursor.objects.exists()
    assert Entry.objects.get(kind="harvest.run").data["status"] == "failed"


def test_it_fails_the_run_without_leaking_the_token_when_it_is_refused(db, monkeypatch):
    with ArgoCDSandbox("another-token") as argo:
        argo.put(payments([history_item(1, sha(1), at(0), at(1), REPO)]))
        run = harvest_target(argocd_source(argo.url, monkeypatch), "*")
    assert run.status == "failed"
    assert "token refused (HTTP 401)" in run.errors[0]
    assert ARGO_TOKEN not in run.errors[0]
    assert not Deployment.objects.exists()


def test_it_reports_an_application_that_does_not_exist(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        run = harvest_target(argocd_source(argo.url, monkeypatch, applications=["ghost"]), "ghost")
    assert run.status == "failed"
    assert "/api/v1/applications/ghost: not found (HTTP 404)" in run.errors[0]


def test_it_records_a_return_to_an_earlier_state_as_a_new_snapshot(db, monkeypatch):
    history = [history_item(1, sha(1), at(0), at(1), REPO)]
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        source = argocd_source(argo.url, monkeypatch)
        for health in ("Healthy", "Healthy", "Degraded", "Healthy"):
            argo.put(payments(history, health=health))
            harvest_source(source)
    snapshots = Entry.objects.filter(kind="argocd.application").order_by("seq")
    assert [e.data["health"]["status"] for e in snapshots] == ["Healthy", "Degraded", "Healthy"]


def test_it_matches_history_without_start_times_to_its_operation(db, monkeypatch):
    item = history_item(1, sha(1), at(0), at(1), REPO)
    del item["deployStartedAt"], item["initiatedBy"]  # older Argo CD versions record neither
    done = operation_state("Succeeded", sha(1), at(0), at(1), "successfully synced", user="carol")
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(payments([item], operation=done))
        harvest_source(argocd_source(argo.url, monkeypatch))
    row = Deployment.objects.get()
    assert (row.external_id, row.initiated_by, row.outcome) == ("1", "carol", "succeeded")
