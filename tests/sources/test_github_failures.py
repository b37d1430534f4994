"""Failures: each is recorded on the harvest run with a clear message, and nothing is half-written."""

from __future__ import annotations

import time

import pytest

from evidence.sources.models import HarvestCursor
from ledger.models import Entry
from tests.support.forge_fixtures import GITHUB_TOKEN, REPO, cursor_of, kinds, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def assert_only_the_failed_run_was_recorded(source, result):
    assert result.status == "failed"
    assert kinds() == {"harvest.run": 1}
    entry = Entry.objects.get(kind="harvest.run")
    assert entry.data["status"] == "failed" and entry.data["errors"] == result.errors
    assert not HarvestCursor.objects.filter(source=source, target=REPO).exists()


def test_it_fails_clearly_on_a_refused_credential_without_naming_it(github_source, github_model):
    github_model.tokens.clear()

    result = run(github_source, REPO)

    assert_only_the_failed_run_was_recorded(github_source, result)
    assert "ACME_GITHUB_TOKEN was refused (401" in result.errors[0]
    assert GITHUB_TOKEN not in result.errors[0]
    assert GITHUB_TOKEN not in bytes(Entry.objects.get(kind="harvest.run").payload).decode()


def test_it_fails_clearly_when_the_repository_was_deleted(github_source, github_model):
    del github_model.repositories[REPO]

    result = run(github_source, REPO)

    assert_only_the_failed_run_was_recorded(github_source, result)
    assert result.errors == [
        f"github {REPO}: repository: not found (404): deleted, renamed, or not visible to this credential"
    ]


def test_it_retries_server_errors_then_succeeds(github_source, fake_github):
    fake_github.fail_next(r"/pulls$", 502, body={"message": "Server Error"}, times=2)

    result = run(github_source, REPO)

    assert result.status == "succeeded", result.errors
    assert [r.status for r in fake_github.requests_to(r"/pulls$")] == [502, 502, 200]
    assert kinds()["github.pull_request"] == 3


def test_it_waits_for_the_rate_limit_reset_then_continues(github_source, fake_github):
    fake_github.rate_limit_next(r"/pulls/2/reviews$", reset_in=1)
    started = time.monotonic()

    result = run(github_source, REPO)

    assert result.status == "succeeded", result.errors
    assert time.monotonic() - started >= 1
    assert [r.status for r in fake_github.requests_to(r"/pulls/2/reviews$")] == [403, 200]


def test_it_gives_up_when_the_rate_limit_resets_later_than_allowed(github_source, fake_github):
    fake_github.rate_limit_next(r"/pulls$", reset_in=3600)
    started = time.monotonic()

    result = run(github_source, REPO)

    assert time.monotonic() - started < 10
    assert_only_the_failed_run_was_recorded(github_source, result)
    assert "rate limited" in result.errors[0] and "max_rate_limit_wait" in result.errors[0]


def test_it_backs_off_on_429_with_retry_after(github_source, fake_github):
    fake_github.fail_next(r"/rules/branches/main$", 429, headers={"Retry-After": "1"}, body={"message": "slow down"})

    result = run(github_source, REPO)

    assert result.status == "succeeded", result.errors
    assert [r.status for r in fake_github.requests_to(r"/rules/branches/main$")] == [429, 200]


def test_it_writes_nothing_of_a_harvest_cut_short_by_a_truncated_body_and_recovers(github_source, fake_github):
    fake_github.fail_next(r"/pulls/3/commits$", kind="truncated")

    failed = run(github_source, REPO)

    assert_only_the_failed_run_was_recorded(github_source, failed)
    assert "could not read the answer" in failed.errors[0] and "pull request #3" in failed.errors[0]

    recovered = run(github_source, REPO)

    assert recovered.status == "succeeded"
    assert kinds()["github.pull_request"] == 3
    assert cursor_of(github_source, REPO)["pulls"]["etag"]
