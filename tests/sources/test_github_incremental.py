"""Reruns: cursors and conditional requests, and protection history that grows only on change."""

from __future__ import annotations

import pytest

from devkit.sandbox.github import Review
from evidence.readmodels.models import ProtectionObservation, ProtectionSnapshot
from ledger.models import Entry
from tests.support.forge_fixtures import REPO, cursor_of, kinds, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def test_it_appends_only_the_run_entry_and_reads_no_pull_request_on_an_unchanged_rerun(github_source, fake_github):
    first = run(github_source, REPO)
    before = Entry.objects.count()
    fake_github.reset_log()

    second = run(github_source, REPO)

    assert first.appended > 0
    assert second.status == "succeeded" and second.appended == 0
    assert Entry.objects.count() == before + 1  # the harvest.run entry alone
    assert fake_github.requests_to(r"/pulls/\d+") == []  # no request per pull request
    # every request was conditional and answered 304, which GitHub does not count against the rate limit
    assert {r.status for r in fake_github.log} == {304}
    assert {r.path.rsplit("/", 1)[-1] for r in fake_github.log} == {
        "payments",
        "pulls",
        "protection",
        "main",
        "rulesets",
        "rule-suites",
        "commits",
    }
    assert second.requests == len(fake_github.log)


def test_it_harvests_only_what_changed_since_the_cursor(github_source, github_model, fake_github):
    run(github_source, REPO)
    github_model.add_merged_pull(REPO, 6, author="frank", merged_by="bob", merged_at="2026-03-02T09:00:00Z")
    fake_github.reset_log()

    result = run(github_source, REPO)

    about_one = fake_github.requests_to(r"/(pulls|issues)/\d+")
    assert {r.path.split("/")[5] for r in about_one} == {"6"}
    assert len(about_one) == 3  # its commits, reviews and issue events
    assert kinds(kind="github.pull_request")["github.pull_request"] == 4
    assert result.appended == 2  # the pull request, and main's history since the head known before
    assert cursor_of(github_source, REPO)["pulls"]["updated_at"] == "2026-03-02T09:00:00Z"


def test_it_appends_a_snapshot_only_when_protection_changes_and_again_when_it_changes_back(github_source, github_model):
    repo = github_model.repositories[REPO]
    original = dict(repo.protection["main"])
    run(github_source, REPO)
    run(github_source, REPO)
    repo.protection["main"] = {**original, "enforce_admins": False}
    run(github_source, REPO)
    repo.protection["main"] = original
    run(github_source, REPO)

    snapshots = list(ProtectionSnapshot.objects.filter(repository=REPO, branch="main").order_by("entry_seq"))
    assert [s.settings["enforce_admins"] for s in snapshots] == [True, False, True]
    assert snapshots[0].content_hash == snapshots[2].content_hash
    assert [s.previous_hash for s in snapshots] == ["", snapshots[0].content_hash, snapshots[1].content_hash]
    observations = list(ProtectionObservation.objects.filter(repository=REPO, branch="main").order_by("entry_seq"))
    assert [o.changed for o in observations] == [True, False, True, True]
    run_entries = Entry.objects.filter(kind="harvest.run").order_by("seq")
    assert run_entries[1].data["observed"]["protection"]["main"] == {
        "hash": snapshots[0].content_hash,
        "changed": False,
    }


def test_it_records_a_new_review_on_a_pull_request_harvested_before(github_source, github_model):
    run(github_source, REPO)
    pull = github_model.repositories[REPO].pulls[2]

    pull.reviews.append(Review(4242, "carol", "APPROVED", pull.head_sha, "2026-03-02T08:00:00Z"))
    pull.updated_at = "2026-03-02T08:00:00Z"  # GitHub bumps updated_at on a new review

    second = run(github_source, REPO)

    assert second.appended == 1  # the review; the pull request itself is unchanged
    reviewers = [e.data["reviewer"] for e in Entry.objects.filter(kind="github.review", subject__endswith="#2")]
    assert reviewers == ["carol"]


def test_it_adds_no_duplicate_when_rerun_after_a_crash_before_the_cursor_moved(github_source, monkeypatch):
    from evidence.sources import harvest

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed before the cursor was saved")

    with monkeypatch.context() as patch:
        patch.setattr(harvest.HarvestCursor.objects, "update_or_create", crash)
        with pytest.raises(RuntimeError):
            run(github_source, REPO)
    evidence = Entry.objects.exclude(kind="harvest.run").count()

    rerun = run(github_source, REPO)

    assert evidence > 0 and cursor_of(github_source, REPO)["pulls"]["updated_at"]
    assert Entry.objects.exclude(kind="harvest.run").count() == evidence
    assert rerun.records > 0 and rerun.appended == 0
