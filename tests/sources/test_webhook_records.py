"""What a verified delivery leaves in the ledger: the body and which secret verified it (its
variable's name), never the signature or the token; keyed by the delivery's own identity."""

from __future__ import annotations

import pytest

from ledger.models import Entry

from .hooks import (
    ARGOCD_TOKEN,
    FLUX_SECRET,
    GITLAB_TOKEN,
    RECEIVERS,
    credential_for,
    deliver,
    delivery_headers,
    encode,
    send,
    valid,
)

pytestmark = pytest.mark.usefixtures("hook_sources")

KINDS = {"github": "github.webhook", "gitlab": "gitlab.webhook", "argocd": "argocd.webhook", "flux": "flux.event"}
VERIFIED = {
    "github": {
        "verified": True,
        "method": "hmac-sha256",
        "header": "X-Hub-Signature-256",
        "secret_env": "GITHUB_WEBHOOK_SECRET",
    },
    "gitlab": {"verified": True, "method": "token", "header": "X-Gitlab-Token", "secret_env": "GITLAB_WEBHOOK_TOKEN"},
    "argocd": {"verified": True, "method": "token", "header": "Authorization", "secret_env": "ARGOCD_WEBHOOK_TOKEN"},
    "flux": {"verified": True, "method": "hmac-sha256", "header": "X-Signature", "secret_env": "FLUX_WEBHOOK_TOKEN"},
}


def test_it_does_not_store_the_github_signature_header(client):
    body = encode(valid("github"))
    signature = credential_for("github", body)["X-Hub-Signature-256"]

    response = deliver(client, "github", body)

    assert response.status_code == 202, response.content
    entry = Entry.objects.get(kind="github.webhook")
    stored = bytes(entry.payload)
    assert signature.removeprefix("sha256=").encode() not in stored
    assert "signature_256" not in entry.data
    assert entry.data["body"].encode() == body
    assert entry.data["verification"] == VERIFIED["github"]


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_records_which_secret_verified_the_delivery_and_never_the_secret(client, receiver):
    body = encode(valid(receiver))

    response = deliver(client, receiver, body)

    assert response.status_code == 202, response.content
    entry = Entry.objects.get(kind=KINDS[receiver])
    assert entry.data["verification"] == VERIFIED[receiver]
    stored = bytes(entry.payload)
    for secret in (GITLAB_TOKEN, ARGOCD_TOKEN, FLUX_SECRET, "whsec-hooks-github"):
        assert secret.encode() not in stored


@pytest.mark.parametrize(("receiver", "setting"), [("github", "webhook_secret_env"), ("argocd", "webhook_token_env")])
def test_it_names_the_sources_own_secret_variable(client, hook_sources, monkeypatch, receiver, setting):
    source = hook_sources[receiver]
    source.config[setting] = "ACME_OWN_HOOK_SECRET"
    source.save()
    monkeypatch.setenv("ACME_OWN_HOOK_SECRET", "acme-own-secret")
    body = encode(valid(receiver))
    headers = credential_for(receiver, body, "acme-own-secret")
    refused = deliver(client, receiver, body)  # the global secret is not this source's

    response = send(client, receiver, body, {**delivery_headers(receiver), **headers})

    assert (refused.status_code, response.status_code) == (403, 202), response.content
    assert Entry.objects.get(kind=KINDS[receiver]).data["verification"]["secret_env"] == "ACME_OWN_HOOK_SECRET"


def test_it_keys_a_github_delivery_by_its_id_whatever_the_signature(client, settings):
    body = encode(valid("github"))
    first = deliver(client, "github", body, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")

    settings.GITHUB_WEBHOOK_SECRET = "rotated-secret"  # the redelivery is signed with the new secret
    headers = {**delivery_headers("github", "72d3162e-cc78-11e3-81ab-4c9367dc0958")}
    again = send(client, "github", body, {**headers, **credential_for("github", body, "rotated-secret")})

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    entry = Entry.objects.get(kind="github.webhook")
    assert entry.idempotency_key == "github:delivery:72d3162e-cc78-11e3-81ab-4c9367dc0958"


def test_it_answers_a_recorded_delivery_with_its_seq_and_source(client):
    response = deliver(client, "flux", encode(valid("flux")))

    assert response.status_code == 202
    entry = Entry.objects.get(kind="flux.event")
    assert response.json() == {
        "status": "recorded",
        "created": True,
        "seq": entry.seq,
        "source": "flux-prod",
        "reharvest": False,
    }
