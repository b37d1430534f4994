"""Each deployment's images resolved to digests, by time, whatever order the evidence is projected in."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.management import call_command

from evidence.compliance.custody import build_custody
from evidence.readmodels.models import Deployment, DeploymentContainer, DeploymentImage
from evidence.sources.oci.harvester import tags_record
from ledger.append import append_entries
from tests.support.gitops import T0, at, digest, sha
from tests.support.records import HOST, IMAGE, argocd_records, pods_record

pytestmark = pytest.mark.usefixtures("projected")


def rows() -> list[tuple]:
    """Every derived fact, without ids or seqs (which depend on append order)."""
    deployments = sorted(
        Deployment.objects.values_list("identity", "revision", "image_digests", "outcome", "running_since")
    )
    images = sorted(DeploymentImage.objects.values_list("deployment__identity", "digest", "origin"))
    containers = sorted(
        DeploymentContainer.objects.values_list("deployment__identity", "container", "digest", "resolved_by")
    )
    return [*deployments, *images, *containers]


def test_it_resolves_a_tag_that_moved_to_the_digest_it_named_when_the_sync_started(db):
    first_seen = tags_record("oci", HOST, "acme/payments", {"1.4": digest(1)}, {})
    append_entries([replace(first_seen, observed_at=T0)])
    moved = tags_record("oci", HOST, "acme/payments", {"1.4": digest(2)}, {"1.4": digest(1)})
    append_entries([replace(moved, observed_at=at(30))])  # the tag moved; a registry harvest saw it at minute 30
    # Argo CD harvested last: both deployments of the same tag come after both sightings
    append_entries(argocd_records([(1, 1, 10), (2, 2, 40)], {1: f"{IMAGE}:1.4", 2: f"{IMAGE}:1.4"}, seen=50))
    first, second = Deployment.objects.order_by("started_at")
    assert (first.image_digests, second.image_digests) == ([digest(1)], [digest(2)])
    assert first.images.get().origin == "registry"


def test_it_resolves_tag_only_references_from_the_pods_when_the_registry_never_looked(db):
    append_entries(argocd_records([(1, 1, 10)], {1: f"{IMAGE}:1.4"}, seen=12))
    append_entries([pods_record(15, [("app", f"{IMAGE}:1.4", digest(7))])])
    row = Deployment.objects.get()
    assert row.image_digests == [digest(7)]
    assert (row.containers.get().resolved_by, row.images.get().origin) == ("pods", "pods")


def test_it_attaches_a_pods_snapshot_to_the_deployment_live_at_its_time(db):
    refs = {1: f"{IMAGE}:1.0", 2: f"{IMAGE}:2.0"}
    append_entries(argocd_records([(1, 1, 10), (2, 2, 40)], refs, seen=45))
    append_entries([pods_record(20, [("app", f"{IMAGE}:1.0", digest(1))])])  # while the first was live
    append_entries([pods_record(50, [("app", f"{IMAGE}:2.0", digest(2))], n=1)])
    first, second = Deployment.objects.order_by("started_at")
    assert (first.image_digests, second.image_digests) == ([digest(1)], [digest(2)])


def _append(app: str, pods_first: bool) -> None:
    """Two deployments of `app` and a pods snapshot in each one's live interval, in either order."""
    refs = {1: f"{IMAGE}:1.0", 2: f"{IMAGE}:2.0"}
    snapshots = [
        pods_record(20, [("app", refs[1], digest(1))], app=app),
        pods_record(50, [("app", refs[2], digest(2))], 1, app),
    ]
    deployments = argocd_records([(1, 1, 10), (2, 2, 40)], refs, seen=60, app=app)
    for record in [*snapshots, *deployments] if pods_first else [*deployments, *snapshots]:
        append_entries([record])


def rows_of(app: str) -> list[tuple]:
    return [tuple(str(v).replace(app, "APP") for v in row) for row in rows() if app in str(row[0])]


def test_it_gives_the_same_rows_when_pods_are_projected_before_the_deployments_they_belong_to(db):
    _append("payments", pods_first=True)  # the pods harvest ran before Argo CD's
    _append("cart", pods_first=False)
    lagging = rows_of("payments")
    assert lagging == rows_of("cart")
    assert [r.image_digests for r in Deployment.objects.filter(application="payments").order_by("started_at")] == [
        [digest(1)],
        [digest(2)],
    ]
    call_command("rebuild_projections", stdout=io.StringIO())
    assert rows_of("payments") == lagging  # a rebuild gives the same rows


def test_it_checks_the_older_commits_chain_on_a_rollback(db):
    refs = {1: f"{IMAGE}@{digest(1)}", 2: f"{IMAGE}@{digest(2)}"}
    append_entries(argocd_records([(1, 1, 10), (2, 2, 20), (3, 1, 30)], refs, seen=35))
    back = Deployment.objects.get(external_id="3")
    assert (back.outcome, back.revision, back.image_digests) == ("rolled_back", sha(1), [digest(1)])
    custody = build_custody(back)
    traced = {(link.path, link.subject) for link in custody.links}
    assert ("image", digest(1)) in traced and ("config", sha(1)) in traced
    assert not any(digest(2) in link.subject for link in custody.links)


def test_it_never_guesses_a_digest_for_a_tag_nobody_resolved(db):
    append_entries(argocd_records([(1, 1, 10)], {1: f"{IMAGE}:1.4"}, seen=12))
    later = tags_record("oci", HOST, "acme/payments", {"1.4": digest(3)}, {})
    append_entries([replace(later, observed_at=T0 + timedelta(days=1))])  # seen only after the sync: not of then
    assert Deployment.objects.get().image_digests == []
