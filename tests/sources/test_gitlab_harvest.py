"""Harvesting GitLab through python-gitlab against the fake API v4."""

from __future__ import annotations

import pytest

from evidence.readmodels.models import Approval, ProtectionSnapshot, PullRequest
from evidence.sources.forges.gitlab.harvester import GitLabHarvester
from ledger.models import Entry
from tests.support.forge_fixtures import PROJECT, kinds, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def test_it_records_merged_merge_requests_into_watched_branches(gitlab_source, gitlab_model):
    result = run(gitlab_source, PROJECT)

    assert result.status == "succeeded", result.errors
    mrs = {e.data["iid"]: e.data for e in Entry.objects.filter(kind="gitlab.merge_request")}
    assert sorted(mrs) == [1, 2]  # !3 targets feature-x
    squashed = gitlab_model.projects[PROJECT].merge_requests[2]
    assert mrs[2]["squash_commit_sha"] == squashed.squash_commit_sha
    assert mrs[2]["merge_commit_sha"] == squashed.merge_commit_sha
    assert mrs[2]["head_sha"] == squashed.sha
    assert mrs[2]["commits"] == squashed.commits  # oldest first, though GitLab lists newest first
    assert (mrs[2]["author"], mrs[2]["merged_by"], mrs[2]["base"]) == ("alice", "bob", "main")
    row = PullRequest.objects.get(forge="gitlab", number=2)
    assert row.squash_commit_sha == squashed.squash_commit_sha
    assert Entry.objects.get(kind="gitlab.merge_request", subject=f"gitlab:{PROJECT}!2").seq == row.entry_seq


def test_it_records_approvers_with_their_time_and_the_head_they_approved(gitlab_source, gitlab_model):
    run(gitlab_source, PROJECT)
    mr = gitlab_model.projects[PROJECT].merge_requests[1]

    approval = Entry.objects.get(kind="gitlab.approval", subject=f"gitlab:{PROJECT}!1").data
    assert [a["username"] for a in approval["approved_by"]] == ["bob", "carol"]
    assert approval["approved_by"][0]["approved_at"] == "2026-03-02T10:00:00Z"  # from the system note
    # approvals reset on push in this project, so a standing approval was given on the merged head
    assert approval["approved_by"][0]["commit_id"] == mr.sha
    assert approval["approved_by"][0]["commit_id_basis"] == "reset_approvals_on_push"
    assert approval["approval_state"]["rules"][0]["name"] == "reviewers"
    rows = Approval.objects.filter(forge="gitlab", number=1).order_by("reviewer")
    assert [(r.reviewer, r.state, r.commit_id) for r in rows] == [
        ("bob", "APPROVED", mr.sha),
        ("carol", "APPROVED", mr.sha),
    ]


def test_it_does_not_claim_the_approved_commit_when_approvals_survive_pushes(gitlab_source, gitlab_model):
    gitlab_model.projects[PROJECT].approval_settings["reset_approvals_on_push"] = False

    run(gitlab_source, PROJECT)

    approval = Entry.objects.get(kind="gitlab.approval", subject=f"gitlab:{PROJECT}!1").data
    assert {a["commit_id"] for a in approval["approved_by"]} == {"unknown"}


def test_it_records_protected_branch_and_approval_settings(gitlab_source):
    run(gitlab_source, PROJECT)

    snapshot = ProtectionSnapshot.objects.get(forge="gitlab", repository=PROJECT, branch="main")
    assert snapshot.settings == {
        "protected": True,
        "required_approvals": 2,
        "dismiss_stale_reviews": True,
        "require_code_owner_reviews": False,
        "author_may_approve": False,
        "committers_may_approve": False,
        "allow_force_pushes": False,
        "push_access": ["No one"],
        "merge_access": ["Maintainers"],
        "require_pull_request": True,
    }
    settings = Entry.objects.get(kind="gitlab.approval_settings").data
    assert settings["approval_settings"]["reset_approvals_on_push"] is True


def test_it_records_settings_it_may_not_read_as_unknown(gitlab_source, gitlab_model):
    project = gitlab_model.projects[PROJECT]
    project.settings_readable = False  # a developer token: settings need a maintainer
    project.premium = False  # no approval rules or approval state on this tier

    result = run(gitlab_source, PROJECT)

    assert result.status == "succeeded", result.errors
    effective = ProtectionSnapshot.objects.get(forge="gitlab", branch="main").settings
    assert effective["protected"] == "unknown"
    assert effective["allow_force_pushes"] == "unknown"
    assert effective["author_may_approve"] == "unknown"
    assert effective["required_approvals"] == "unknown"
    approval = Entry.objects.get(kind="gitlab.approval", subject=f"gitlab:{PROJECT}!1").data
    assert approval["approval_state"] == "unknown"
    assert {a["commit_id"] for a in approval["approved_by"]} == {"unknown"}


def test_it_follows_pagination_and_makes_only_listing_requests_on_a_rerun(gitlab_source, gitlab_model, fake_gitlab):
    gitlab_source.config["page_size"] = 3
    gitlab_source.save()
    for iid in range(10, 15):
        gitlab_model.add_merged_request(PROJECT, iid, author="erin", merged_by="bob", merged_at="2026-02-01T09:00:00Z")
    first = run(gitlab_source, PROJECT)
    first_listing = fake_gitlab.requests_to(r"/merge_requests$")
    fake_gitlab.reset_log()

    second = run(gitlab_source, PROJECT)

    assert first.status == "succeeded"
    assert kinds()["gitlab.merge_request"] == 7
    assert len(first_listing) == 3  # 8 merged merge requests, 3 a page
    assert second.appended == 0
    assert fake_gitlab.requests_to(r"/merge_requests/\d+") == []
    # project, settings x3, one merge-request listing, one page of main's history (back to the known head)
    assert second.requests == len(fake_gitlab.log) == 6


def test_it_records_an_approval_revoked_since_the_last_harvest(gitlab_source, gitlab_model):
    run(gitlab_source, PROJECT)
    mr = gitlab_model.projects[PROJECT].merge_requests[1]
    mr.approvals = [a for a in mr.approvals if a.username != "carol"]
    mr.updated_at = "2026-03-03T09:00:00Z"

    result = run(gitlab_source, PROJECT)

    assert result.appended == 1  # the approvals record; the merge request itself is unchanged
    carol = Approval.objects.get(forge="gitlab", number=1, reviewer="carol")
    assert carol.state == "REVOKED" and carol.dismissed


def test_it_lists_every_project_of_a_declared_group(gitlab_source, gitlab_model):
    gitlab_model.add_project("acme/platform/deep/billing")
    gitlab_model.add_project("other/thing")
    gitlab_source.config = {"group": "acme/platform"}

    targets = GitLabHarvester().targets(gitlab_source)

    assert targets == ["acme/platform/deep/billing", PROJECT]
