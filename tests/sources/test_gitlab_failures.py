"""GitLab failures: recorded on the run with a clear message, nothing half-written; retries where safe."""

from __future__ import annotations

import pytest

from evidence.sources.models import HarvestCursor
from ledger.models import Entry
from tests.support.forge_fixtures import GITLAB_TOKEN, PROJECT, kinds, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def assert_only_the_failed_run_was_recorded(source, result):
    assert result.status == "failed"
    assert kinds() == {"harvest.run": 1}
    assert not HarvestCursor.objects.filter(source=source, target=PROJECT).exists()


def test_it_fails_clearly_on_a_refused_token(gitlab_source, gitlab_model):
    gitlab_model.tokens.clear()

    result = run(gitlab_source, PROJECT)

    assert_only_the_failed_run_was_recorded(gitlab_source, result)
    assert result.errors == [
        f"gitlab {PROJECT}: project: the credential in $ACME_GITLAB_TOKEN was refused (401 Unauthorized)"
    ]
    assert GITLAB_TOKEN not in bytes(Entry.objects.get().payload).decode()


def test_it_fails_clearly_when_the_project_is_gone(gitlab_source, gitlab_model):
    del gitlab_model.projects[PROJECT]

    result = run(gitlab_source, PROJECT)

    assert_only_the_failed_run_was_recorded(gitlab_source, result)
    assert "project: not found (404)" in result.errors[0]


def test_it_retries_server_errors_and_a_truncated_body(gitlab_source, fake_gitlab):
    fake_gitlab.fail_next(r"/merge_requests$", 503, body={"message": "503 Service Unavailable"})
    fake_gitlab.fail_next(r"/merge_requests/1/notes$", kind="truncated")

    result = run(gitlab_source, PROJECT)

    assert result.status == "succeeded", result.errors
    assert [r.status for r in fake_gitlab.requests_to(r"/merge_requests$")] == [503, 200]
    assert len(fake_gitlab.requests_to(r"/merge_requests/1/notes$")) == 2
    assert kinds()["gitlab.approval"] == 2


def test_it_obeys_retry_after_on_429(gitlab_source, fake_gitlab):
    fake_gitlab.fail_next(r"/protected_branches$", 429, headers={"Retry-After": "1"}, body={"message": "Retry later"})

    result = run(gitlab_source, PROJECT)

    assert result.status == "succeeded", result.errors
    assert [r.status for r in fake_gitlab.requests_to(r"/protected_branches$")] == [429, 200]


def test_it_gives_up_when_the_rate_limit_is_longer_than_allowed(gitlab_source, fake_gitlab):
    fake_gitlab.fail_next(r"/merge_requests$", 429, headers={"Retry-After": "3600"}, body={"message": "Retry later"})

    result = run(gitlab_source, PROJECT)

    assert_only_the_failed_run_was_recorded(gitlab_source, result)
    assert "rate limited for 3600s, longer than max_rate_limit_wait" in result.errors[0]


def test_it_writes_nothing_when_the_server_keeps_failing(gitlab_source, fake_gitlab):
    fake_gitlab.fail_next(r"/merge_requests/2/approvals$", 500, body={"message": "500 Internal Server Error"}, times=20)

    result = run(gitlab_source, PROJECT)

    assert_only_the_failed_run_was_recorded(gitlab_source, result)
    assert "merge request !2" in result.errors[0] and "500" in result.errors[0]
