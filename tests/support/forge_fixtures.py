"""Fixtures for the forge tests: fake GitHub/GitLab servers filled with a small organisation.

Imported by name in each test module (pytest picks fixtures up from the module namespace).
"""

from __future__ import annotations

from collections import Counter

import pytest

from devkit.sandbox.github import FakeGitHub, GitHubModel, Ruleset
from devkit.sandbox.gitlab import FakeGitLab, GitLabModel
from evidence.sources.harvest import harvest_target
from evidence.sources.models import HarvestCursor, HarvestRun, Source
from ledger.models import Entry

GITHUB_TOKEN = "ghs_forge_test_token_123"
GITLAB_TOKEN = "glpat-forge-test-token-456"
REPO = "acme/payments"
PROJECT = "acme/platform/shop"


@pytest.fixture
def github_model() -> GitHubModel:
    """acme/payments: three merged pull requests into main, one into a release branch, one closed unmerged."""
    model = GitHubModel(tokens={GITHUB_TOKEN})
    repo = model.add_repository(REPO)
    model.add_merged_pull(
        REPO, 1, author="alice", merged_by="bob", merged_at="2026-03-01T10:00:00Z", approvers=("bob",)
    )
    model.add_merged_pull(REPO, 2, author="bob", merged_by="bob", merged_at="2026-03-01T11:00:00Z", commits=3)
    model.add_merged_pull(
        REPO, 3, author="alice", merged_by="carol", merged_at="2026-03-01T12:00:00Z", approvers=("carol", "dave")
    )
    model.add_merged_pull(REPO, 4, author="erin", merged_by="bob", merged_at="2026-03-01T13:00:00Z", base="release")
    unmerged = model.add_merged_pull(REPO, 5, author="mallory", merged_by="x", merged_at="2026-03-01T14:00:00Z")
    unmerged.merged_at = unmerged.merged_by = unmerged.merge_commit_sha = None
    repo.protection["main"] = {
        "required_approving_review_count": 1,
        "dismiss_stale_reviews": True,
        "enforce_admins": True,
        "required_status_checks": ["ci/test"],
    }
    model.org_rulesets["acme"] = [
        Ruleset(
            900,
            "org: two reviews on default branches",
            "acme",
            [
                {"type": "pull_request", "parameters": {"required_approving_review_count": 2}},
                {"type": "non_fast_forward"},
            ],
            source_type="Organization",
            bypass_actors=[{"actor_id": 7, "actor_type": "Team", "bypass_mode": "pull_request"}],
        )
    ]
    return model


@pytest.fixture
def fake_github(github_model):
    server = FakeGitHub(github_model, enterprise=True).start()
    yield server
    server.stop()


def github_config(api: str) -> dict:
    return {
        "api": api,
        "repositories": [REPO],
        "branches": ["main"],
        "seconds_between_requests": 0,
        "backoff_factor": 0,
        "max_rate_limit_wait": 5,
    }


def make_github_source(api: str, fake_github, monkeypatch) -> Source:
    """A source on the fake GitHub reading pull requests through `api` ("rest" or "graphql"); the
    two are named apart so a test can harvest the same repository through both."""
    monkeypatch.setenv("ACME_GITHUB_TOKEN", GITHUB_TOKEN)
    return Source.objects.create(
        name="acme-github" if api == "rest" else f"acme-github-{api}",
        kind="github",
        url=fake_github.url,
        credential_env="ACME_GITHUB_TOKEN",
        config=github_config(api),
    )


@pytest.fixture
def github_source(db, fake_github, monkeypatch) -> Source:
    """A source reading pull requests through REST (the fallback path whose requests these tests count)."""
    return make_github_source("rest", fake_github, monkeypatch)


@pytest.fixture
def github_graphql_source(db, fake_github, monkeypatch) -> Source:
    """The same source reading pull requests through GraphQL (the default)."""
    return make_github_source("graphql", fake_github, monkeypatch)


@pytest.fixture
def gitlab_model() -> GitLabModel:
    model = GitLabModel(tokens={GITLAB_TOKEN})
    project = model.add_project(PROJECT)
    project.protected_branches.append({"name": "main", "push": [0], "merge": [40]})
    project.protected_branches.append({"name": "release/*", "push": [40], "merge": [40], "allow_force_push": True})
    project.approval_rules.append({"name": "reviewers", "approvals_required": 2, "users": ["bob", "carol"]})
    model.add_merged_request(
        PROJECT, 1, author="alice", merged_by="bob", merged_at="2026-03-02T10:00:00Z", approvers=("bob", "carol")
    )
    model.add_merged_request(
        PROJECT, 2, author="alice", merged_by="bob", merged_at="2026-03-02T11:00:00Z", approvers=(), squash=True
    )
    model.add_merged_request(
        PROJECT, 3, author="dave", merged_by="bob", merged_at="2026-03-02T12:00:00Z", target_branch="feature-x"
    )
    return model


@pytest.fixture
def fake_gitlab(gitlab_model):
    server = FakeGitLab(gitlab_model).start()
    yield server
    server.stop()


@pytest.fixture
def gitlab_source(db, fake_gitlab, monkeypatch) -> Source:
    monkeypatch.setenv("ACME_GITLAB_TOKEN", GITLAB_TOKEN)
    return Source.objects.create(
        name="acme-gitlab",
        kind="gitlab",
        url=fake_gitlab.url,
        credential_env="ACME_GITLAB_TOKEN",
        config={"projects": [PROJECT], "branches": ["main"], "max_rate_limit_wait": 5},
    )


def kinds(**filters) -> Counter:
    return Counter(Entry.objects.filter(**filters).values_list("kind", flat=True))


def run(source: Source, target: str) -> HarvestRun:
    """Harvest one target (tests see the projection with `projected`)."""
    return harvest_target(source, target)


def cursor_of(source: Source, target: str) -> dict:
    row = HarvestCursor.objects.filter(source=source, target=target).first()
    return row.state if row else {}
