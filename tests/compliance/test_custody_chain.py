"""The chain of custody of a deployment: links in chain order, entries cited, a constant number
of SQL queries whatever the number of images and approvals, and findings that a rebuild of the
read models gives again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence.compliance.custody import Custody, Link, build_custody
from evidence.compliance.models import Finding
from evidence.readmodels.projectors import rebuild_all
from ledger.models import Entry
from tests.support.custody_story import APP, T0, Story, deployment, digest, prod_policy, sha

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def test_it_links_the_chain_in_order_with_the_entries_that_prove_it():
    prod_policy()
    story = Story().clean()
    seqs = story.append()
    chain = build_custody(deployment())

    assert isinstance(chain, Custody) and all(isinstance(link, Link) for link in chain.links)
    assert [(link.path, link.name) for link in chain.links] == [
        ("deployment", "deployment"),
        ("deployment", "policy"),
        ("image", "image"),
        ("image", "signature"),
        ("image", "provenance"),
        ("image", "commit"),
        ("image", "pull request"),
        ("image", "branch"),
        ("image", "approval"),
        ("image", "approvals"),
        ("image", "merger"),
        ("image", "protection"),
        ("config", "config commit"),
        ("config", "config pull request"),
        ("config", "config branch"),
        ("config", "config approval"),
        ("config", "config approvals"),
        ("config", "config merger"),
        ("config", "config protection"),
        ("deployment", "running"),
    ]
    by_name = {link.name: link for link in chain.links}
    kinds = {e.seq: e.kind for e in Entry.objects.all()}
    assert {kinds[s] for s in by_name["signature"].entry_seqs} == {"oci.signature"}
    assert {kinds[s] for s in by_name["pull request"].entry_seqs} == {"github.pull_request"}
    assert {kinds[s] for s in by_name["protection"].entry_seqs} == {"github.branch_protection", "harvest.run"}
    assert by_name["pull request"].url == f"https://github.com/{APP}/pull/1"
    assert by_name["commit"].url == f"https://github.com/{APP}/commit/{story.merge}"
    assert by_name["image"].url.endswith(f"/v2/acme/payments/manifests/{story.image}")
    assert set(chain.entry_seqs) <= set(seqs) | {0, 1}  # 0, 1: the policy version proposed and approved
    as_json = chain.as_json()
    assert as_json["links"][6]["subject"] == "github:acme/payments#1"
    assert as_json["findings"] == []


def test_it_marks_a_stale_approval_and_says_why():
    prod_policy()
    story = Story()
    story.clean(app_reviews=[("bob", sha("older head")), ("erin", story.head)]).append()
    approvals = [link for link in build_custody(deployment()).links if link.name == "approval"]

    assert [(link.status, link.codes) for link in approvals] == [("violated", ["stale_approval"]), ("satisfied", [])]
    assert "stale: the merged head is" in approvals[0].explanation


def test_it_shows_an_unobserved_protection_as_a_gap():
    prod_policy()
    Story().clean(skip={"app_observed_after"}).append()
    gap = next(link for link in build_custody(deployment()).links if link.name == "protection observed")

    assert gap.status == "not_evidenced"
    assert "No harvest looked at main's protection after the merge" in gap.explanation


def _story_with(tag: str, images: int, approvals: int, day: int) -> None:
    story = Story(tag)
    story.deployed_at = T0 + timedelta(days=day, hours=2)
    extra = [digest(f"{tag}-img-{i}") for i in range(images - 1)]
    story.clean(app_reviews=[(f"reviewer-{i}", story.head) for i in range(approvals)], skip={"deploy"})
    for image in extra:
        story.signature(image)
        story.provenance(image, story.merge)
    story.deploy(story.config_merge, [story.image, *extra], story.deployed_at)
    story.pods([story.image, *extra], story.deployed_at + timedelta(minutes=5))
    story.append()


def _measure() -> tuple[int, Custody]:
    with CaptureQueriesContext(connection) as captured:
        chain = build_custody(deployment())
    return len(captured.captured_queries), chain


def test_it_uses_the_same_number_of_queries_for_more_images_and_approvals():
    prod_policy()
    _story_with("a", images=1, approvals=1, day=0)
    small, chain = _measure()
    assert sum(link.name == "image" for link in chain.links) == 1

    _story_with("b", images=5, approvals=20, day=1)
    big, chain = _measure()

    assert sum(link.name == "image" for link in chain.links) == 5
    assert sum(link.name == "approval" for link in chain.links) == 5 * 20  # each image traced to the same PR
    assert chain.findings == []
    assert big == small


def test_it_gives_the_same_findings_after_rebuilding_the_read_models():
    prod_policy()
    story = Story().clean(signature=("no_signature", ""), skip={"app_observed_after"})
    story.append()
    before = sorted(Finding.objects.values_list("key", "code", "subject", "entry_seqs", "explanation"))

    rebuild_all()

    after = sorted(Finding.objects.values_list("key", "code", "subject", "entry_seqs", "explanation"))
    assert before == after
    assert {row[1] for row in after} == {"image_unsigned", "evidence_gap"}


def test_it_judges_a_deployment_whose_evidence_arrives_later():
    prod_policy()
    story = Story().clean(skip={"signature"})
    story.append()
    assert {f.code for f in Finding.objects.all()} == {"image_unsigned"}

    story.signature(story.image)  # the registry harvest catches up
    story.append()

    assert not Finding.objects.exists()
    assert T0 < deployment().finished_at < T0 + timedelta(days=1)


def test_it_keeps_a_finding_row_while_it_holds_and_drops_it_when_fixed():
    prod_policy()
    story = Story().clean(skip={"signature", "provenance"})
    story.append()
    unsigned = Finding.objects.get(code="image_unsigned")

    story.provenance(story.image, story.merge)  # provenance arrives; still unsigned
    story.append()

    assert Finding.objects.get(code="image_unsigned").pk == unsigned.pk
    assert set(Finding.objects.values_list("code", flat=True)) == {"image_unsigned"}


def test_it_reads_pods_only_up_to_the_deployment_after_the_one_asked_about():
    from evidence.compliance.custody.load import load
    from evidence.readmodels.models import Deployment

    prod_policy()
    story = Story().clean()
    later = story.deployed_at + timedelta(days=1)
    story.pods([story.image], story.deployed_at + timedelta(minutes=5))
    story.deploy(story.config_merge, [story.image], later)
    story.pods([story.image], later + timedelta(minutes=5))
    story.append()
    first, second = Deployment.objects.filter(application="payments").order_by("finished_at")

    seen = [s.observed_at for rows in load([first]).workloads.values() for s in rows]
    assert seen == [story.deployed_at + timedelta(minutes=5)]  # the next deployment's pods are not read
    seen = [s.observed_at for rows in load([second]).workloads.values() for s in rows]
    assert seen == [later + timedelta(minutes=5)]  # nothing after the latest one: its pods run on
