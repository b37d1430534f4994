"""Harvesting GitHub's pull requests through GraphQL: what it costs, first and again, and paging."""

from __future__ import annotations

import pytest

from devkit.sandbox.github import FakeGitHub, Review
from evidence.sources.models import Source
from ledger.models import Entry
from tests.support.forge_fixtures import GITHUB_TOKEN, REPO, cursor_of, kinds, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def graphql_requests(server):
    return server.requests_to(r"graphql$")


def test_it_reads_all_merged_pull_requests_in_one_listing_and_one_details_query(github_graphql_source, fake_github):
    result = run(github_graphql_source, REPO)

    assert result.status == "succeeded", result.errors
    assert len(graphql_requests(fake_github)) == 2  # the listing, then the three into main in one query
    assert not fake_github.requests_to(r"/(pulls|issues)")  # nothing about pull requests through REST
    assert sorted(e.data["number"] for e in Entry.objects.filter(kind="github.pull_request")) == [1, 2, 3]
    assert kinds()["github.review"] == 3


def test_it_pages_the_commits_of_a_pull_request_past_a_hundred_with_queries_for_it_alone(
    github_graphql_source, github_model, fake_github
):
    long = github_model.add_merged_pull(
        REPO, 8, author="alice", merged_by="bob", merged_at="2026-03-02T09:00:00Z", commits=150
    )

    run(github_graphql_source, REPO)

    entry = Entry.objects.get(kind="github.pull_request", subject=f"github:{REPO}#8")
    assert entry.data["commits"] == long.commits  # all 150, in order
    assert [c["sha"] for c in entry.data["commit_details"]] == long.commits
    assert len(graphql_requests(fake_github)) == 3  # listing, details, and the follow-up for #8's commits 101-150


def test_it_pages_reviews_past_a_hundred(github_graphql_source, github_model):
    pull = github_model.repositories[REPO].pulls[1]
    pull.reviews += [
        Review(5000 + i, f"rev{i}", "COMMENTED", pull.head_sha, "2026-03-01T09:00:00Z") for i in range(130)
    ]

    run(github_graphql_source, REPO)

    assert Entry.objects.filter(kind="github.review", subject=f"github:{REPO}#1").count() == 131


def test_it_appends_nothing_and_asks_one_query_on_an_unchanged_rerun(github_graphql_source, github_model, fake_github):
    github_model.repositories[REPO].pulls[3].updated_at = "2026-03-05T10:00:00Z"  # the newest is into main
    first = run(github_graphql_source, REPO)
    before = Entry.objects.count()
    fake_github.reset_log()

    second = run(github_graphql_source, REPO)

    assert first.appended > 0
    assert second.status == "succeeded" and second.appended == 0
    assert Entry.objects.count() == before + 1  # the harvest.run entry alone
    assert len(graphql_requests(fake_github)) == 1  # the listing's first page says nothing changed
    rest = [r for r in fake_github.log if not r.path.endswith("graphql")]
    # protection, rules, rulesets, history and rule suites stay REST, each conditional: a 304, which
    # GitHub does not count against the rate limit, so the rerun is charged one request
    assert {r.status for r in rest} == {304}
    assert not fake_github.requests_to(r"/(pulls|issues)")
    assert second.requests == len(fake_github.log)


def test_it_rereads_a_pull_request_updated_since_the_last_run_and_only_it(
    github_graphql_source, github_model, fake_github
):
    run(github_graphql_source, REPO)
    pull = github_model.repositories[REPO].pulls[2]
    pull.reviews.append(Review(250, "carol", "APPROVED", pull.head_sha, "2026-03-04T08:00:00Z"))
    pull.updated_at = "2026-03-04T08:00:00Z"
    fake_github.reset_log()

    result = run(github_graphql_source, REPO)

    assert result.appended == 1  # the new review; the pull request itself is unchanged
    (review,) = [e for e in Entry.objects.filter(kind="github.review") if e.data["id"] == 250]
    assert review.subject == f"github:{REPO}#2" and review.data["reviewer"] == "carol"
    assert len(graphql_requests(fake_github)) == 2  # the listing, then #2 alone
    assert result_observed(result)["changes_harvested"] == [2]
    assert cursor_of(github_graphql_source, REPO)["pulls"]["updated_at"] == "2026-03-04T08:00:00Z"


def test_it_reads_a_pull_request_updated_in_the_same_second_as_the_last_one_read(
    github_graphql_source, github_model, fake_github
):
    repo = github_model.repositories[REPO]
    repo.pulls[3].updated_at = "2026-03-05T10:00:00Z"
    run(github_graphql_source, REPO)
    late = github_model.add_merged_pull(REPO, 9, author="erin", merged_by="bob", merged_at="2026-03-05T10:00:00Z")
    fake_github.reset_log()

    result = run(github_graphql_source, REPO)

    assert result_observed(result)["changes_harvested"] == [late.number]  # #3, read at that second, is not again
    assert cursor_of(github_graphql_source, REPO)["pulls"]["read_at_updated_at"] == [3, 9]


def result_observed(run_row):
    entry = Entry.objects.get(kind="harvest.run", idempotency_key=run_row.entry_key)
    return entry.data["observed"]


def test_it_posts_to_graphql_at_the_root_as_github_com_serves_it(db, github_model, monkeypatch):
    monkeypatch.setenv("ACME_GITHUB_TOKEN", GITHUB_TOKEN)
    with FakeGitHub(github_model, enterprise=False) as server:
        source = Source.objects.create(
            name="dotcom",
            kind="github",
            url=server.url,
            credential_env="ACME_GITHUB_TOKEN",
            config={"repositories": [REPO], "seconds_between_requests": 0},  # api: graphql by default
        )
        result = run(source, REPO)

        assert result.status == "succeeded", result.errors
        assert {r.path for r in graphql_requests(server)} == {"/graphql"}
    assert kinds()["github.pull_request"] == 3


def test_it_records_the_points_graphql_charged_in_the_run(github_graphql_source, fake_github):
    result = run(github_graphql_source, REPO)

    assert result_observed(result)["graphql_points"] == sum(fake_github.graphql.costs) >= 2
