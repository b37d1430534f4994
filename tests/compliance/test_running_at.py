"""What was running in an environment at a time: answers, time forms, diffs, and running pods."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from devkit.sandbox.argocd import application, history_item, operation_state
from devkit.sandbox.kubernetes import KubernetesSandbox, pod
from evidence.compliance.running import BadTime, diff_running, parse_at, running_at
from evidence.readmodels.models import Deployment, DeploymentImage
from evidence.sources.harvest import harvest_source
from ledger.models import Entry
from tests.support.gitops import KUBE_TOKEN, at, digest, kube_source, record_argocd, sha

pytestmark = pytest.mark.usefixtures("projected")
REPO = "https://git.example.test/acme/deploy.git"
IMAGE = "registry.example.test/acme/{}@{}"


def deploy(name: str, environment: str, items: list[tuple[int, int, int]], **kwargs) -> None:
    """items: (history id, revision number, minute finished); images name the last revision's digest."""
    history = [history_item(i, sha(r), at(m - 1), at(m), REPO) for i, r, m in items]
    images = kwargs.pop("images", [IMAGE.format(name, digest(items[-1][1]))])
    record_argocd(application(name, history=history, images=images, **kwargs), environment)


def test_it_answers_per_application_with_the_entries_that_prove_it(db):
    deploy("payments", "prod", [(1, 1, 10), (2, 2, 100)])
    deploy("cart", "prod", [(1, 7, 50)])
    deploy("payments", "staging", [(1, 3, 20)])
    state = running_at("prod", at(60))
    assert [(a.application, a.revision) for a in state.applications] == [("cart", sha(7)), ("payments", sha(1))]
    later = {a.application: a for a in running_at("prod", at(120)).applications}
    payments = later["payments"]
    assert (payments.revision, payments.digests, payments.since) == (sha(2), [digest(2)], at(100))
    row = Deployment.objects.get(pk=payments.deployment)
    assert set(payments.entry_seqs) == set(row.entry_seqs)
    assert {e.kind for e in Entry.objects.filter(seq__in=payments.entry_seqs)} == {
        "argocd.deployment",
        "argocd.application",
    }


def test_it_shows_nothing_for_an_application_before_its_first_deployment(db):
    deploy("payments", "prod", [(1, 1, 10)])
    assert running_at("prod", at(5)).applications == []
    assert running_at("nowhere", at(60)).applications == []


def test_it_keeps_the_previous_revision_running_after_a_failed_sync(db):
    failed = operation_state("Failed", sha(2), at(50), at(51), "hook failed")
    deploy("payments", "prod", [(1, 1, 10)], operation=failed)
    [app] = running_at("prod", at(60)).applications
    assert app.revision == sha(1)


def test_it_says_since_when_across_resyncs_of_the_same_revision(db):
    deploy("payments", "prod", [(1, 1, 10), (2, 1, 40), (3, 1, 70)])
    [app] = running_at("prod", at(80)).applications
    assert (app.since, app.deployed_at) == (at(10), at(70))


def test_it_reads_relative_times_and_deployments_back(db):
    deploy("payments", "prod", [(1, 1, 10), (2, 2, 20), (3, 3, 30)])
    now = datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
    assert parse_at("3 weeks ago", "prod", now=now) == now - timedelta(weeks=3)
    assert parse_at("2 days ago", "prod", now=now) == now - timedelta(days=2)
    assert parse_at("now", "prod", now=now) == now
    assert parse_at("2026-03-01T12:00Z", "prod") == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_at("2026-03-01", "prod") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_at("~0", "prod") == at(30)
    assert parse_at("~2", "prod") == at(10)
    [app] = running_at("prod", parse_at("~1", "prod")).applications
    assert app.revision == sha(2)


def test_it_refuses_times_it_cannot_read(db):
    deploy("payments", "prod", [(1, 1, 10)])
    with pytest.raises(BadTime, match="has only 1 deployments"):
        parse_at("~5", "prod")
    with pytest.raises(BadTime, match="expected an ISO 8601 time"):
        parse_at("last tuesday", "prod")


def test_it_diffs_two_times_and_two_environments(db):
    deploy("payments", "prod", [(1, 1, 10), (2, 2, 100)])
    deploy("cart", "prod", [(1, 7, 50)])
    deploy("search", "prod", [(1, 9, 5)], health="Healthy")
    deploy("payments", "staging", [(1, 2, 20)])
    diff = diff_running(running_at("prod", at(40)), running_at("prod", at(120)))
    assert [a["application"] for a in diff["added"]] == ["cart"]
    assert diff["removed"] == []
    [change] = diff["changed"]
    assert (change["application"], change["from"]["revision"], change["to"]["revision"]) == ("payments", sha(1), sha(2))
    assert change["digests_added"] == [digest(2)] and diff["unchanged"] == 1
    across = diff_running(running_at("staging", at(120)), running_at("prod", at(120)))
    assert [a["application"] for a in across["added"]] == ["cart", "search"]
    assert across["changed"] == [] and across["unchanged"] == 1


def test_it_resolves_tags_to_the_digests_pods_run_and_shows_drift(db, monkeypatch):
    web_tag = "registry.example.test/acme/web:1.4"
    deploy("web", "prod", [(1, 1, 10)], images=[web_tag])
    deploy("api", "prod", [(1, 2, 10)])  # the controller names digest(2)
    labels = {"app.kubernetes.io/instance": "web"}
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        kube.add(
            pod("web-7d9f8-abcde", "shop", labels, [("web", web_tag, f"registry.example.test/acme/web@{digest(40)}")])
        )
        kube.add(
            pod(
                "api-5c6b7-xyz12",
                "shop",
                {"app.kubernetes.io/instance": "api"},
                [("api", "registry.example.test/acme/api:2.0", f"registry.example.test/acme/api@{digest(41)}")],
            )
        )
        kube.add(pod("job-1", "shop", labels, [("web", web_tag, "x")], phase="Succeeded"))  # not running
        source = kube_source(kube.url, monkeypatch, "kubernetes", "pods-prod", namespaces=["shop"])
        [run] = harvest_source(source)
    assert run.status == "succeeded", run.errors
    running = {a.application: a for a in running_at("prod", datetime.now(UTC)).applications}
    web, api = running["web"], running["api"]
    assert (web.digests, web.drift) == ([digest(40)], False)
    assert DeploymentImage.objects.get(digest=digest(40)).origin == "pods"
    assert (api.digests, api.observed_digests, api.drift) == ([digest(2)], [digest(41)], True)
    snapshot = Entry.objects.get(kind="kubernetes.pods")
    assert snapshot.seq in web.entry_seqs and snapshot.seq in api.entry_seqs


def test_it_rebuilds_the_same_rows_from_the_ledger(db):
    deploy("payments", "prod", [(1, 1, 10), (2, 2, 20), (3, 1, 30)])
    failed = operation_state("Error", sha(5), at(40), at(41), "timeout")
    deploy("cart", "prod", [(1, 7, 50)], operation=failed)
    fields = [
        "identity",
        "environment",
        "application",
        "revision",
        "image_digests",
        "outcome",
        "running_since",
        "entry_seqs",
        "finished_at",
    ]
    before = sorted(Deployment.objects.values_list(*fields))
    call_command("rebuild_projections", stdout=io.StringIO())
    assert sorted(Deployment.objects.values_list(*fields)) == before
    assert ("rolled_back", "failed") == (
        Deployment.objects.get(application="payments", external_id="3").outcome,
        Deployment.objects.get(revision=sha(5)).outcome,
    )


def test_it_projects_a_deployment_stated_as_a_summary(db):
    from ledger.append import append_entries
    from ledger.envelope import Record

    summary = {"environment": "prod", "application": "billing", "revision": sha(9), "images": [digest(9)]}
    append_entries(
        [
            Record("argocd.deployment", "importer", "prod/billing", "import:billing:1", summary, occurred_at=at(30)),
            Record("argocd.sync_operation", "importer", "argocd:billing", "import:odd:1", {"unexpected": True}),
        ]
    )
    [app] = running_at("prod", at(40)).applications
    assert (app.application, app.revision, app.digests, app.since) == ("billing", sha(9), [digest(9)], at(30))


def test_it_resolves_a_rollout_that_kept_the_tag_from_the_new_pods(db, monkeypatch):
    tag = "registry.example.test/acme/web:stable"
    labels = {"app.kubernetes.io/instance": "web"}
    with KubernetesSandbox(KUBE_TOKEN) as kube:
        source = kube_source(kube.url, monkeypatch, "kubernetes", "pods-prod", namespaces=["shop"])
        deploy("web", "prod", [(1, 1, 10)], images=[tag])
        kube.add(pod("web-aaaaa", "shop", labels, [("web", tag, f"registry.example.test/acme/web@{digest(50)}")]))
        harvest_source(source)
        deploy("web", "prod", [(1, 1, 10), (2, 2, 20)], images=[tag])  # new revision, same tag
        kube.clear("Pod")
        kube.add(pod("web-bbbbb", "shop", labels, [("web", tag, f"registry.example.test/acme/web@{digest(50)}")]))
        harvest_source(source)
    assert Entry.objects.filter(kind="kubernetes.pods").count() == 2
    assert Deployment.objects.get(revision=sha(2)).image_digests == [digest(50)]
