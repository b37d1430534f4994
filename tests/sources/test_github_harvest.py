"""Harvesting GitHub through PyGithub against the fake API: what is recorded, and how."""

from __future__ import annotations

import pytest

from devkit.sandbox.github import Review, ReviewDismissal
from evidence.readmodels.models import Approval, ProtectionSnapshot, PullRequest
from ledger.models import Entry
from tests.support.forge_fixtures import REPO, kinds, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def test_it_records_merged_pull_requests_into_watched_branches_only(github_source, github_model):
    result = run(github_source, REPO)

    assert result.status == "succeeded", result.errors
    numbers = sorted(e.data["number"] for e in Entry.objects.filter(kind="github.pull_request"))
    assert numbers == [1, 2, 3]  # 4 went to 'release', 5 was closed without merge


def test_it_records_what_maps_a_commit_to_its_pull_request(github_source, github_model):
    run(github_source, REPO)
    pull = github_model.repositories[REPO].pulls[2]

    entry = Entry.objects.get(kind="github.pull_request", subject=f"github:{REPO}#2")
    assert entry.data["author"] == "bob"
    assert entry.data["base"] == "main"
    assert entry.data["head_sha"] == pull.head_sha
    assert entry.data["merge_commit_sha"] == pull.merge_commit_sha
    assert entry.data["merged_by"] == "bob"
    assert entry.data["merged_at"] == "2026-03-01T11:00:00Z"
    assert entry.data["commits"] == pull.commits
    row = PullRequest.objects.get(forge="github", repository=REPO, number=2)
    assert row.entry_seq == entry.seq
    assert sorted(row.commit_rows.values_list("sha", flat=True)) == sorted(pull.commits)


def test_it_records_each_review_with_the_commit_it_was_given_on(github_source, github_model):
    pull = github_model.repositories[REPO].pulls[3]
    pull.reviews.append(Review(999, "erin", "CHANGES_REQUESTED", pull.commits[0], "2026-03-01T11:30:00Z"))

    run(github_source, REPO)

    reviews = {e.data["reviewer"]: e.data for e in Entry.objects.filter(kind="github.review", subject__endswith="#3")}
    assert reviews["carol"]["state"] == "APPROVED"
    assert reviews["carol"]["commit_id"] == pull.head_sha
    assert reviews["erin"]["commit_id"] == pull.commits[0]
    assert reviews["erin"]["submitted_at"] == "2026-03-01T11:30:00Z"
    rows = Approval.objects.filter(pull_request__number=3).order_by("reviewer")
    assert [(r.reviewer, r.state, r.commit_id) for r in rows] == [
        ("carol", "APPROVED", pull.head_sha),
        ("dave", "APPROVED", pull.head_sha),
        ("erin", "CHANGES_REQUESTED", pull.commits[0]),
    ]


def test_it_records_who_dismissed_which_review(github_source, github_model):
    pull = github_model.repositories[REPO].pulls[3]
    dave = next(r for r in pull.reviews if r.user == "dave")
    dave.state = "DISMISSED"
    pull.dismissals.append(ReviewDismissal(5501, dave.id, "carol", "2026-03-01T11:45:00Z", "approved the wrong thing"))

    run(github_source, REPO)

    dismissal = Entry.objects.get(kind="github.review_dismissal")
    assert dismissal.data["review_id"] == dave.id
    assert dismissal.data["dismissed_by"] == "carol"
    assert dismissal.data["message"] == "approved the wrong thing"
    row = Approval.objects.get(review_id=str(dave.id))
    assert row.dismissed and row.dismissed_by == "carol" and row.dismissal_seq == dismissal.seq


def test_it_merges_classic_protection_and_rulesets_into_effective_settings(github_source, github_model):
    run(github_source, REPO)

    entry = Entry.objects.get(kind="github.branch_protection")
    effective = entry.data["effective"]
    assert effective["required_approvals"] == 2  # the organisation ruleset asks more than classic protection
    assert effective["dismiss_stale_reviews"] is True
    assert effective["enforce_admins"] is True
    assert effective["allow_force_pushes"] is False
    assert effective["required_status_checks"] == ["ci/test"]
    assert effective["bypass_actors"] == [{"actor_id": 7, "actor_type": "Team", "bypass_mode": "pull_request"}]
    ruleset = Entry.objects.get(kind="github.ruleset")
    assert ruleset.data["ruleset"]["id"] == 900 and ruleset.subject == "github:acme"
    snapshot = ProtectionSnapshot.objects.get(forge="github", repository=REPO, branch="main")
    assert snapshot.settings == effective and snapshot.entry_seq == entry.seq


def test_it_records_protection_it_may_not_read_as_unknown_never_off(github_source, github_model):
    repo = github_model.repositories[REPO]
    repo.protection_readable = False  # the token has no admin rights on the repository
    github_model.org_rulesets.clear()

    result = run(github_source, REPO)

    assert result.status == "succeeded"
    data = Entry.objects.get(kind="github.branch_protection").data
    assert data["classic"] == "unknown"
    assert data["effective"]["enforce_admins"] == "unknown"
    assert data["effective"]["required_approvals"] == "unknown"
    assert data["effective"]["protected"] == "unknown"
    run_entry = Entry.objects.get(kind="harvest.run")
    assert "classic protection of main" in run_entry.data["observed"]["unknown"]


def test_it_records_rule_suites_that_bypassed_a_rule(github_source, github_model):
    repo = github_model.repositories[REPO]
    repo.rule_suites.append(
        {
            "id": 31,
            "actor_id": 12,
            "username": "mallory",
            "before_sha": "1" * 40,
            "after_sha": "2" * 40,
            "ref": "refs/heads/main",
            "pushed_at": "2026-03-01T15:00:00Z",
            "result": "bypass",
            "evaluation_result": "fail",
            "rule_evaluations": [
                {
                    "rule_source": {"type": "ruleset", "id": 900},
                    "enforcement": "active",
                    "result": "fail",
                    "rule_type": "pull_request",
                    "details": "Changes must be made through a pull request.",
                }
            ],
        }
    )

    run(github_source, REPO)

    suite = Entry.objects.get(kind="github.rule_suite")
    assert suite.data["rule_suite"]["username"] == "mallory"
    assert suite.data["rule_suite"]["rule_evaluations"][0]["rule_type"] == "pull_request"


def test_it_follows_link_pagination(github_source, github_model, fake_github):
    github_source.config["page_size"] = 4
    github_source.save()
    for number in range(10, 16):
        github_model.add_merged_pull(REPO, number, author="alice", merged_by="bob", merged_at="2026-02-01T10:00:00Z")
    github_model.repositories[REPO].pulls[3].reviews += [
        Review(7000 + i, f"reviewer{i}", "COMMENTED", "a" * 40, "2026-03-01T11:00:00Z") for i in range(5)
    ]

    run(github_source, REPO)

    assert kinds(kind="github.pull_request")["github.pull_request"] == 9
    assert len(fake_github.requests_to(r"/pulls$")) == 3  # 11 closed pull requests, 4 a page
    assert len(fake_github.requests_to(r"/pulls/3/reviews$")) == 2  # 7 reviews
    assert Entry.objects.filter(kind="github.review", subject__endswith="#3").count() == 7


def test_it_records_off_only_when_github_says_the_branch_is_not_protected(github_source, github_model, fake_github):
    del github_model.repositories[REPO].protection["main"]
    run(github_source, REPO)
    fake_github.fail_next(r"/branches/main/protection$", 404, body={"message": "Not Found"})
    run(github_source, REPO)

    first, second = (e.data for e in Entry.objects.filter(kind="github.branch_protection").order_by("seq"))
    assert first["classic"] == {"protected": False}
    assert second["classic"] == "unknown"  # a bare 404 hides the resource; it does not say 'off'


def test_it_reads_an_api_served_at_the_root_as_github_com_does(db, github_model, monkeypatch):
    from devkit.sandbox.github import FakeGitHub
    from evidence.sources.models import Source

    monkeypatch.setenv("ACME_GITHUB_TOKEN", "ghs_forge_test_token_123")
    with FakeGitHub(github_model, enterprise=False) as server:
        source = Source.objects.create(
            name="dotcom",
            kind="github",
            url=server.url,
            credential_env="ACME_GITHUB_TOKEN",
            config={"api": "rest", "repositories": [REPO], "seconds_between_requests": 0},
        )
        result = run(source, REPO)

        assert result.status == "succeeded", result.errors
        assert server.requests_to(r"^/repos/acme/payments/pulls$")[0].target.startswith("/repos/")
    assert kinds()["github.pull_request"] == 3


def test_it_reads_the_pull_request_itself_only_when_the_timeline_does_not_say_who_merged(
    github_source, github_model, fake_github
):
    github_model.repositories[REPO].pulls[2].merge_event = False

    run(github_source, REPO)

    assert [r.path for r in fake_github.requests_to(r"/pulls/\d+$")] == [f"/repos/{REPO}/pulls/2"]
    merged_by = {e.data["number"]: e.data["merged_by"] for e in Entry.objects.filter(kind="github.pull_request")}
    assert merged_by == {1: "bob", 2: "bob", 3: "carol"}
