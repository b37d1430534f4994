"""Segregation of duties and emergency changes, harvested for real: an approver who pushed a commit
of the change, the author merging or syncing their own change, a manual sync of an unapproved
change, and an approval given only after the merge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.readmodels.models import PullRequestCommit
from tests.support.ancestry_world import T0, ShopWorld, link

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(monkeypatch):
    world = ShopWorld(monkeypatch)
    yield world
    world.stop()


def test_it_records_who_authored_and_pushed_each_commit_of_a_pull_request(shop):
    pull = shop.pull(1, T0, pushed_by={0: "bob"})
    shop.harvest()

    rows = list(PullRequestCommit.objects.filter(pull_request__number=1).order_by("position"))
    assert [(r.sha, r.author, r.committer) for r in rows] == [
        (pull.commits[0], "bob", "bob"),
        (pull.commits[1], "alice", "alice"),
    ]


def test_it_does_not_count_an_approval_by_someone_who_pushed_a_commit_of_the_change(shop):
    pull = shop.pull(1, T0, approvers=("bob",), pushed_by={0: "bob"})
    shop.harvest()

    codes, chain = shop.judge(shop.deploy(pull.merge_commit_sha, T0 + timedelta(days=1)))

    # GitHub counted bob's approval, so the merge did not go past protection: no bypass
    assert codes == ["approver_committed", "insufficient_approvals"]
    approval = link(chain, "config approval")
    assert approval.status == "violated"
    assert f"bob also authored or pushed 1 commit(s) of the change ({pull.commits[0][:12]})" in approval.explanation


def test_it_counts_an_approver_who_pushed_nothing(shop):
    pull = shop.pull(1, T0, approvers=("bob", "carol"), pushed_by={0: "bob"})
    shop.harvest()

    codes, chain = shop.judge(shop.deploy(pull.merge_commit_sha, T0 + timedelta(days=1)))

    assert codes == ["approver_committed"]  # carol's approval suffices; bob's still does not count
    assert "(carol)" in link(chain, "config approvals").explanation


def test_it_finds_the_author_merging_their_own_change(shop):
    pull = shop.pull(1, T0, author="alice", merged_by="alice")
    shop.harvest()

    codes, chain = shop.judge(shop.deploy(pull.merge_commit_sha, T0 + timedelta(days=1)))

    assert codes == ["author_merged_own_change"]
    assert "merged by its author alice" in link(chain, "config merger").explanation


def test_it_finds_the_author_syncing_their_own_change_by_hand(shop):
    pull = shop.pull(1, T0, author="alice")
    shop.harvest()

    codes, chain = shop.judge(shop.deploy(pull.merge_commit_sha, T0 + timedelta(days=1), by="alice@acme.example"))

    assert codes == ["author_deployed_own_change", "manual_sync"]  # reviewed: not an emergency change
    assert "is the author of what it shipped (github:acme/shop#1)" in link(chain, "deployer").explanation


def test_it_calls_a_manual_sync_of_an_unapproved_change_an_emergency_change(shop):
    pull = shop.pull(1, T0, approvers=())
    shop.harvest()

    codes, chain = shop.judge(shop.deploy(pull.merge_commit_sha, T0 + timedelta(hours=1), by="oncall@acme.example"))

    # (protection was first recorded after this merge, so whether it was bypassed is not evidenced)
    assert codes == ["emergency_change", "insufficient_approvals", "manual_sync"]
    text = link(chain, "emergency change").explanation
    assert "synced by hand by oncall@acme.example" in text and "No approval was recorded after the fact" in text


def test_it_shows_an_approval_given_after_the_merge_as_after_the_fact(shop):
    pull = shop.pull(1, T0, approvers=("bob",), approved_at=T0 + timedelta(days=2))
    shop.harvest()

    codes, chain = shop.judge(shop.deploy(pull.merge_commit_sha, T0 + timedelta(hours=1)))

    assert "emergency_change" in codes and "insufficient_approvals" in codes
    text = link(chain, "emergency change").explanation
    assert "Approved after the fact: bob approved github:acme/shop#1 at 2026-03-03 10:00 UTC" in text
    assert "given after the merge, so it does not count" in link(chain, "config approval").explanation


def test_it_does_not_call_an_automated_sync_of_an_unapproved_change_an_emergency_change(shop):
    pull = shop.pull(1, T0, approvers=())
    shop.harvest()

    codes, _ = shop.judge(shop.deploy(pull.merge_commit_sha, T0 + timedelta(hours=1)))

    assert "emergency_change" not in codes and "insufficient_approvals" in codes


def test_it_calls_segregation_not_evidenced_when_commit_authors_were_never_recorded(projected):
    from evidence.compliance.custody import build_custody
    from tests.support.custody_story import Story, deployment, prod_policy

    prod_policy()
    story = Story().clean()
    for record in story.records:  # pull requests as a harvest before commit authors were recorded gave them
        record.data.pop("commit_details", None)
    story.append()

    chain = build_custody(deployment())

    gap = link(chain, "committers")
    assert (gap.status, gap.reason) == ("not_evidenced", "could_not_read")
    assert "whether an approver also pushed to it is not evidenced" in gap.explanation
    assert {f.code for f in chain.findings} == {"evidence_gap"}
