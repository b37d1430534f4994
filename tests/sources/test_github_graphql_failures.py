"""GraphQL failures: an answer with errors, a refused token, a fake that refuses what GitHub would."""

from __future__ import annotations

import json

import pytest
import requests

from evidence.sources.models import HarvestCursor
from ledger.models import Entry
from tests.support.forge_fixtures import GITHUB_TOKEN, REPO, run

pytestmark = pytest.mark.usefixtures("projected")


def assert_nothing_but_the_failed_run(source, result):
    assert result.status == "failed"
    assert len(result.errors) == 1 and "\n" not in result.errors[0]
    assert Entry.objects.exclude(kind="harvest.run").count() == 0  # no half of the harvest
    assert not HarvestCursor.objects.filter(source=source).exists()


def test_it_fails_in_one_line_and_records_nothing_when_graphql_answers_errors(github_graphql_source, fake_github):
    # GitHub's answer when a query ran out of time: data and errors together, with a 200
    error = {"type": "SERVICE_UNAVAILABLE", "path": ["repository", "pullRequests"], "message": "Something went wrong"}
    fake_github.fail_next(r"graphql$", 200, body={"data": {"repository": None}, "errors": [error, error]})

    result = run(github_graphql_source, REPO)

    assert_nothing_but_the_failed_run(github_graphql_source, result)
    assert result.errors[0] == (
        f"github {REPO}: pull requests: merged pull requests: GitHub's GraphQL API answered SERVICE_UNAVAILABLE: "
        "Something went wrong at repository.pullRequests (and 1 more)"
    )


def test_it_records_nothing_when_the_details_query_answers_errors(github_graphql_source, fake_github):
    original = fake_github.graphql.run
    calls = []

    def details_fail(query, variables):
        calls.append(query)
        body, headers = original(query, variables)
        if len(calls) == 2:  # the details query, after a listing that went through
            body["errors"] = [{"type": "NOT_FOUND", "path": ["repository", "pr0"], "message": "Could not resolve"}]
        return body, headers

    fake_github.graphql.run = details_fail
    result = run(github_graphql_source, REPO)

    assert_nothing_but_the_failed_run(github_graphql_source, result)
    assert "NOT_FOUND: Could not resolve at repository.pr0" in result.errors[0]


def test_it_fails_clearly_when_the_repository_was_deleted(github_graphql_source, github_model):
    del github_model.repositories[REPO]

    result = run(github_graphql_source, REPO)

    assert_nothing_but_the_failed_run(github_graphql_source, result)
    assert "NOT_FOUND: Could not resolve to a Repository with the name 'acme/payments'." in result.errors[0]


def test_it_says_the_token_was_refused_without_showing_it(github_graphql_source, monkeypatch, fake_github):
    monkeypatch.setenv("ACME_GITHUB_TOKEN", "ghp_wrong_token_0000")

    result = run(github_graphql_source, REPO)

    assert_nothing_but_the_failed_run(github_graphql_source, result)
    assert [r.status for r in fake_github.log] == [401]
    assert "refused (401 Bad credentials)" in result.errors[0]
    assert "ghp_wrong" not in result.errors[0]


def test_it_retries_a_graphql_server_error_then_succeeds(github_graphql_source, fake_github):
    fake_github.fail_next(r"graphql$", 502, body={"message": "Server Error"})

    result = run(github_graphql_source, REPO)

    assert result.status == "succeeded", result.errors
    assert [r.status for r in fake_github.requests_to(r"graphql$")][:2] == [502, 200]


def post(server, body, token=GITHUB_TOKEN):
    return requests.post(
        server.origin + "/api/graphql", data=body, headers={"Authorization": f"token {token}"}, timeout=10
    )


def test_the_fake_refuses_a_bad_token_with_401(fake_github):
    answer = post(fake_github, json.dumps({"query": "{ rateLimit { cost } }"}), token="nope")

    assert answer.status_code == 401
    assert answer.json()["message"] == "Bad credentials"


def test_the_fake_refuses_a_field_github_does_not_have_in_githubs_words(fake_github):
    query = '{ repository(owner: "acme", name: "payments") { pullRequests(first: 1) { nodes { approvers } } } }'

    answer = post(fake_github, json.dumps({"query": query}))

    assert answer.status_code == 200
    (error,) = answer.json()["errors"]
    assert error["message"] == "Field 'approvers' doesn't exist on type 'PullRequest'"
    assert error["extensions"]["code"] == "undefinedField"
    assert "data" not in answer.json()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("query {", "Syntax Error"),
        ('{ repository(owner: "acme", name: "payments") { pullRequests { nodes { number } } } }', "`first` or `last`"),
        ('{ repository(owner: "acme", name: "payments") { pullRequests(first: 101) { nodes { number } } } }', "limit"),
    ],
)
def test_the_fake_refuses_malformed_queries_and_unbounded_connections(fake_github, query, expected):
    answer = post(fake_github, json.dumps({"query": query}))

    assert answer.status_code == 200
    assert expected in answer.json()["errors"][0]["message"]


def test_the_fake_refuses_a_body_that_is_not_json(fake_github):
    answer = post(fake_github, "{not json")

    assert answer.status_code == 400
    assert answer.json()["message"] == "Problems parsing JSON"


def test_the_fake_charges_points_by_githubs_formula(fake_github):
    query = """{ rateLimit { cost remaining }
      repository(owner: "acme", name: "payments") {
        pullRequests(first: 100) { nodes {
          commits(first: 100) { nodes { commit { parents(first: 2) { totalCount } } } }
        } }
      } }"""

    answer = post(fake_github, json.dumps({"query": query})).json()

    # 1 pullRequests + 100 commits connections + 100 x 100 parents connections = 10,101 -> 101 points
    assert answer["data"]["rateLimit"] == {"cost": 101, "remaining": 5000 - 101}


@pytest.mark.parametrize(
    "data",
    [
        {"repository": {"defaultBranchRef": None}},  # no pullRequests connection
        {"repository": {"pullRequests": {"pageInfo": {}, "nodes": [{"number": 1}]}}},  # a node without its fields
        {"repository": {"pullRequests": {"pageInfo": {"hasNextPage": False}, "nodes": [7]}}},  # not an object
    ],
)
def test_it_fails_in_one_line_when_a_graphql_answer_is_not_in_the_shape_asked_for(
    github_graphql_source, fake_github, data
):
    fake_github.fail_next(r"graphql$", 200, body={"data": data})

    result = run(github_graphql_source, REPO)

    assert_nothing_but_the_failed_run(github_graphql_source, result)
    assert result.errors[0].startswith(
        f"github {REPO}: pull requests: GitHub's GraphQL answer is not in the shape asked for ("
    )
