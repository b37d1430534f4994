"""POST /hooks/github/: signed deliveries are recorded at once and re-harvest their repository."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from ledger.models import Entry
from tests.support.forge_fixtures import REPO, kinds

SECRET = "whsec-forge-test"


def review_submitted(number: int = 3) -> bytes:
    """A pull_request_review delivery in GitHub's shape (our own values)."""
    payload = {
        "action": "submitted",
        "review": {
            "id": 8801,
            "user": {"login": "carol", "id": 3, "type": "User"},
            "body": "Looks right.",
            "commit_id": "9" * 40,
            "submitted_at": "2026-03-01T11:50:00Z",
            "state": "approved",
            "author_association": "MEMBER",
        },
        "pull_request": {"number": number, "state": "open", "head": {"ref": "feature/3", "sha": "9" * 40}},
        "repository": {"id": 1, "name": "payments", "full_name": REPO, "private": True},
        "organization": {"login": "acme", "id": 9},
        "sender": {"login": "carol", "id": 3, "type": "User"},
    }
    return json.dumps(payload, indent=2).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, body: bytes, signature: str | None, delivery: str = "7f0c-1"):
    headers = {"HTTP_X_GITHUB_EVENT": "pull_request_review", "HTTP_X_GITHUB_DELIVERY": delivery}
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post("/hooks/github/", body, content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.GITHUB_WEBHOOK_SECRET = SECRET


def test_it_records_a_signed_delivery_as_sent_and_reharvests_its_repository(
    client, github_source, fake_github, django_capture_on_commit_callbacks
):
    body = review_submitted()

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, body, sign(body))

    assert response.status_code == 202, response.content
    entry = Entry.objects.get(kind="github.webhook")
    assert entry.subject == f"github:{REPO}#3"
    assert entry.idempotency_key == "github:delivery:7f0c-1"
    assert entry.data["body"].encode() == body  # the signed bytes, so the signature can be checked again
    assert entry.data["event"] == "pull_request_review" and entry.data["action"] == "submitted"
    assert entry.source == github_source.name
    assert fake_github.requests_to(r"/pulls$"), "the delivery should trigger a harvest of the repository"
    assert kinds()["github.pull_request"] == 3


def test_it_refuses_a_wrong_signature_and_leaves_nothing(client, github_source, fake_github):
    body = review_submitted()

    response = deliver(client, body, sign(body, "not-the-secret"))

    assert response.status_code == 403
    assert "does not match" in response.json()["detail"]
    assert Entry.objects.count() == 0
    assert fake_github.log == []


def test_it_refuses_a_body_changed_after_signing(client, github_source):
    body = review_submitted()

    response = deliver(client, body.replace(b'"approved"', b'"APPROVED"'), sign(body))

    assert response.status_code == 403
    assert Entry.objects.count() == 0


def test_it_refuses_a_delivery_without_signature(client, github_source, fake_github):
    response = deliver(client, review_submitted(), None)

    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["detail"]
    assert Entry.objects.count() == 0


def test_it_refuses_everything_when_no_secret_is_configured(client, settings, db):
    settings.GITHUB_WEBHOOK_SECRET = ""
    body = review_submitted()

    response = deliver(client, body, sign(body, ""))

    assert response.status_code == 403
    assert Entry.objects.count() == 0


def test_it_records_a_replayed_delivery_once_and_reharvests_once(
    client, github_source, fake_github, django_capture_on_commit_callbacks
):
    body = review_submitted()
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, body, sign(body))
    harvest_requests = len(fake_github.log)

    with django_capture_on_commit_callbacks(execute=True):
        replay = deliver(client, body, sign(body))

    assert first.status_code == 202
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert replay.json()["seq"] == Entry.objects.get(kind="github.webhook").seq
    assert kinds()["github.webhook"] == 1
    assert len(fake_github.log) == harvest_requests


def test_it_uses_the_sources_own_secret_when_it_names_one(client, github_source, monkeypatch):
    github_source.config["webhook_secret_env"] = "ACME_GITHUB_HOOK_SECRET"
    github_source.save()
    monkeypatch.setenv("ACME_GITHUB_HOOK_SECRET", "per-source-secret")
    body = review_submitted()

    refused = deliver(client, body, sign(body), delivery="a")
    accepted = deliver(client, body, sign(body, "per-source-secret"), delivery="b")

    assert refused.status_code == 403
    assert accepted.status_code == 202
