"""GraphQL and REST record the same facts: the same repository harvested both ways gives the same
records (kinds, subjects, idempotency keys, payloads, times), so projections, custody and findings
cannot tell which API read them."""

from __future__ import annotations

from devkit.sandbox.github import Review, ReviewDismissal
from evidence.sources.forges.github.harvester import GitHubHarvester
from tests.support.forge_fixtures import REPO


def facts(source, cursor=None):
    result = GitHubHarvester().harvest(source, REPO, dict(cursor or {}))
    records = [(r.kind, r.subject, r.idempotency_key, dict(r.data), r.occurred_at) for r in result.records]
    return records, result


def enrich(model):
    """Every shape the REST path records: dismissals, reviews on older commits, a bot, a commit pushed
    by someone else, squash and rebase merges, a timeline without its 'merged' event, long lists."""
    repo = model.repositories[REPO]
    three = repo.pulls[3]
    three.reviews.append(Review(301, "erin", "CHANGES_REQUESTED", three.commits[0], "2026-03-01T11:30:00Z", "no"))
    three.reviews.append(Review(302, "dependabot[bot]", "COMMENTED", three.head_sha, "2026-03-01T11:40:00Z"))
    three.dismissals.append(ReviewDismissal(7001, three.reviews[0].id, "bob", "2026-03-01T11:50:00Z", "stale"))
    two = repo.pulls[2]
    two.merge_event = False  # REST reads the pull request itself for who merged it
    two.merge_method = "squash"
    two.pushed_by[two.commits[1]] = "mallory"
    bot = model.add_merged_pull(
        REPO, 6, author="dependabot[bot]", merged_by="bob", merged_at="2026-03-01T15:00:00Z", approvers=("carol",)
    )
    bot.merge_method = "rebase"
    long = model.add_merged_pull(
        REPO, 7, author="alice", merged_by="bob", merged_at="2026-03-01T16:00:00Z", commits=150
    )
    long.reviews = [
        Review(70_000 + i, f"rev{i % 5}", "COMMENTED", long.head_sha, "2026-03-01T15:30:00Z") for i in range(120)
    ]
    long.reviews.append(Review(71_000, "carol", "APPROVED", long.head_sha, "2026-03-01T15:59:00Z"))


def test_it_records_the_same_entries_through_graphql_as_through_rest(
    github_source, github_graphql_source, github_model, fake_github
):
    enrich(github_model)

    rest, rest_result = facts(github_source)
    fake_github.reset_log()
    graphql, graphql_result = facts(github_graphql_source)

    assert {k for k, *_ in rest} >= {"github.pull_request", "github.review", "github.review_dismissal"}
    assert graphql == rest  # same records, in the same order
    assert graphql_result.observed["changes_harvested"] == rest_result.observed["changes_harvested"]
    assert any(r.path.endswith("/graphql") for r in fake_github.log)
    assert not fake_github.requests_to(r"/(pulls|issues)")  # nothing about pull requests through REST


def test_it_records_the_same_entries_on_a_rerun_after_a_change_either_way(
    github_source, github_graphql_source, github_model
):
    _, rest_first = facts(github_source)
    _, graphql_first = facts(github_graphql_source)
    pull = github_model.repositories[REPO].pulls[1]
    pull.reviews.append(Review(150, "dave", "APPROVED", pull.head_sha, "2026-03-03T09:00:00Z"))
    pull.updated_at = "2026-03-03T09:00:00Z"

    rest, _ = facts(github_source, rest_first.cursor)
    graphql, _ = facts(github_graphql_source, graphql_first.cursor)

    assert graphql == rest
    assert ("github.review", f"github:{REPO}#1") in {(k, s) for k, s, *_ in graphql}
