"""Each forge harvest records the watched branch's first-parent history, incrementally: only the
commits since the head recorded last, nothing when the branch has not moved, and a walk that
could not reach the known head (a force push) recorded as incomplete."""

from __future__ import annotations

import pytest

from devkit.sandbox.github import DirectPush, fake_sha
from evidence.readmodels.models import BranchCommit
from ledger.models import Entry
from tests.support.forge_fixtures import PROJECT, REPO, run

pytestmark = pytest.mark.usefixtures("projected")  # the branch lines are read from the read model


def line(repository: str) -> list[str]:
    return list(BranchCommit.objects.filter(repository=repository, branch="main").values_list("sha", flat=True))


def histories(kind: str) -> list[dict]:
    return [e.data for e in Entry.objects.filter(kind=kind).order_by("seq")]


def test_it_records_only_the_commits_since_the_head_recorded_last_on_github(github_source, github_model):
    run(github_source, REPO)
    first = line(REPO)
    pulls = github_model.repositories[REPO].pulls
    assert first[1:] == [pulls[1].merge_commit_sha, pulls[2].merge_commit_sha, pulls[3].merge_commit_sha]

    run(github_source, REPO)  # main has not moved: a 304, no entry
    new = github_model.add_merged_pull(REPO, 6, author="frank", merged_by="bob", merged_at="2026-03-02T09:00:00Z")
    run(github_source, REPO)

    recorded = histories("github.branch_history")
    assert len(recorded) == 2
    assert recorded[1]["since"] == first[-1] and recorded[1]["complete"] is True
    assert [c["sha"] for c in recorded[1]["commits"]] == [new.merge_commit_sha]
    assert line(REPO) == [*first, new.merge_commit_sha]


def test_it_records_a_rewritten_branch_as_incomplete(github_source, github_model):
    run(github_source, REPO)
    repo = github_model.repositories[REPO]
    for number in (1, 2, 3):  # the branch is force-pushed to a new line that lacks the old head
        repo.pulls[number].merged_at = None
    repo.pushes.append(DirectPush(fake_sha("rewritten"), "mallory", "2026-03-03T09:00:00Z"))

    run(github_source, REPO)

    recorded = histories("github.branch_history")[-1]
    assert recorded["complete"] is False and recorded["head"] == fake_sha("rewritten")
    observed = Entry.objects.filter(kind="harvest.run").order_by("-seq").first().data["observed"]
    assert any(u.startswith("history of main before") for u in observed["unknown"])
    assert observed["history"] == {"main": fake_sha("rewritten")}


def test_it_records_the_first_parent_line_gitlab_walks_itself(gitlab_source, gitlab_model):
    project = gitlab_model.projects[PROJECT]
    project.merge_requests[1].merge_method = "ff"  # fast-forwarded: its own commits are on main

    run(gitlab_source, PROJECT)
    mrs = project.merge_requests
    assert line(PROJECT)[1:] == [*mrs[1].commits, mrs[2].merge_commit_sha]  # !2 squashed, then merged

    gitlab_model.add_merged_request(PROJECT, 4, author="erin", merged_by="bob", merged_at="2026-03-03T10:00:00Z")
    run(gitlab_source, PROJECT)
    run(gitlab_source, PROJECT)

    recorded = histories("gitlab.branch_history")
    assert len(recorded) == 2
    assert [c["sha"] for c in recorded[1]["commits"]] == [mrs[4].merge_commit_sha]
    assert recorded[1]["commits"][0]["parents"] == [mrs[2].merge_commit_sha, mrs[4].sha]
