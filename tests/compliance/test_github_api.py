"""GET /api/v1/pull-requests/: auditors find the change that merged a commit, with its approvals."""

from __future__ import annotations

import pytest

from tests.support.forge_fixtures import REPO, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def test_it_finds_the_pull_request_that_merged_a_commit(auditor, github_source, github_model):
    run(github_source, REPO)
    pull = github_model.repositories[REPO].pulls[3]

    response = auditor.get("/api/v1/pull-requests/", {"commit": pull.commits[0]})

    assert response.status_code == 200
    [item] = response.json()["results"]
    assert (item["repository"], item["number"], item["merged_by"]) == (REPO, 3, "carol")
    assert [a["reviewer"] for a in item["approvals"]] == ["carol", "dave"]
    assert all(a["commit_id"] == pull.head_sha for a in item["approvals"])
    assert isinstance(item["entry_seq"], int)


def test_it_finds_it_by_merge_commit_and_filters_by_base(auditor, github_source, github_model):
    run(github_source, REPO)
    merge_sha = github_model.repositories[REPO].pulls[1].merge_commit_sha

    by_merge = auditor.get("/api/v1/pull-requests/", {"commit": merge_sha}).json()
    on_release = auditor.get("/api/v1/pull-requests/", {"base": "release"}).json()

    assert [i["number"] for i in by_merge["results"]] == [1]
    assert on_release["count"] == 0  # only watched branches are harvested


def test_it_refuses_an_outsider_without_credentials(client, db):
    response = client.get("/api/v1/pull-requests/")

    assert response.status_code in (401, 403)
