"""POST /hooks/gitlab/: deliveries carrying the secret token are recorded and re-harvest their project."""

from __future__ import annotations

import json

import pytest

from ledger.models import Entry
from tests.support.forge_fixtures import PROJECT, kinds

TOKEN = "gitlab-hook-token"


def merge_request_merged(iid: int = 1) -> bytes:
    """A Merge Request Hook body in GitLab's shape (our own values)."""
    payload = {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 2, "name": "Bob", "username": "bob"},
        "project": {"id": 77, "name": "shop", "path_with_namespace": PROJECT, "default_branch": "main"},
        "object_attributes": {
            "iid": iid,
            "action": "merge",
            "state": "merged",
            "target_branch": "main",
            "source_branch": f"feature/{iid}",
            "merge_commit_sha": "ab" * 20,
            "last_commit": {"id": "cd" * 20},
            "updated_at": "2026-03-02 10:00:00 UTC",
        },
        "changes": {},
    }
    return json.dumps(payload).encode()


def deliver(client, body: bytes, token: str | None, uuid: str = "3f1d-a"):
    headers = {"HTTP_X_GITLAB_EVENT": "Merge Request Hook", "HTTP_IDEMPOTENCY_KEY": uuid}
    if token is not None:
        headers["HTTP_X_GITLAB_TOKEN"] = token
    return client.post("/hooks/gitlab/", body, content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def webhook_token(settings):
    settings.GITLAB_WEBHOOK_TOKEN = TOKEN


def test_it_records_a_delivery_with_the_right_token_and_reharvests(
    client, gitlab_source, fake_gitlab, django_capture_on_commit_callbacks
):
    body = merge_request_merged()

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, body, TOKEN)

    assert response.status_code == 202, response.content
    entry = Entry.objects.get(kind="gitlab.webhook")
    assert entry.subject == f"gitlab:{PROJECT}!1"
    assert entry.idempotency_key == "gitlab:delivery:3f1d-a"
    assert entry.data["body"].encode() == body
    assert entry.data["action"] == "merge"
    assert kinds()["gitlab.merge_request"] == 2  # the re-harvest ran against the project
    assert fake_gitlab.requests_to(r"/merge_requests$")


def test_it_refuses_a_wrong_token_and_leaves_nothing(client, gitlab_source, fake_gitlab):
    response = deliver(client, merge_request_merged(), "guess")

    assert response.status_code == 403
    assert Entry.objects.count() == 0 and fake_gitlab.log == []


def test_it_refuses_a_delivery_without_token(client, gitlab_source):
    response = deliver(client, merge_request_merged(), None)

    assert response.status_code == 401
    assert "X-Gitlab-Token" in response.json()["detail"]
    assert Entry.objects.count() == 0


def test_it_records_a_replayed_delivery_once(client, gitlab_source, fake_gitlab, django_capture_on_commit_callbacks):
    body = merge_request_merged()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, body, TOKEN)
    harvest_requests = len(fake_gitlab.log)

    with django_capture_on_commit_callbacks(execute=True):
        replay = deliver(client, body, TOKEN)

    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert kinds()["gitlab.webhook"] == 1
    assert len(fake_gitlab.log) == harvest_requests


def test_it_deduplicates_on_the_body_when_gitlab_sends_no_delivery_id(client, gitlab_source):
    body = merge_request_merged(iid=2)
    headers = {"HTTP_X_GITLAB_EVENT": "Merge Request Hook", "HTTP_X_GITLAB_TOKEN": TOKEN}

    first = client.post("/hooks/gitlab/", body, content_type="application/json", **headers)
    again = client.post("/hooks/gitlab/", body, content_type="application/json", **headers)

    assert (first.status_code, again.status_code) == (202, 200)
    assert kinds()["gitlab.webhook"] == 1
