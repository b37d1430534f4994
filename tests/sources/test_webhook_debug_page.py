"""Django's DEBUG error page shows each frame's variables; a receiver's never show a secret."""

from __future__ import annotations

import hmac
from types import SimpleNamespace

import pytest
from django.test import Client

from .hooks import ARGOCD_TOKEN, FLUX_SECRET, GITHUB_SECRET, GITLAB_TOKEN, deliver, encode, valid

pytestmark = pytest.mark.usefixtures("hook_sources")

SECRETS = {"github": GITHUB_SECRET, "gitlab": GITLAB_TOKEN, "argocd": ARGOCD_TOKEN, "flux": FLUX_SECRET}


def crash(*args, **kwargs):
    raise RuntimeError("a bug while verifying")


# What each receiver's verify calls once it holds the secret and the credential, made to fail.
FAILS_IN = {
    "github": ("evidence.sources.webhooks.github.signature_matches", crash),
    "gitlab": ("evidence.sources.webhooks.gitlab.hmac", SimpleNamespace(compare_digest=crash)),
    "argocd": ("evidence.sources.webhooks.argocd.one_source", crash),
    "flux": ("evidence.sources.webhooks.flux.hmac", SimpleNamespace(new=crash, compare_digest=hmac.compare_digest)),
}


@pytest.mark.parametrize("receiver", ["github", "gitlab", "argocd", "flux"])
def test_it_shows_no_secret_on_the_debug_error_page(hook_sources, settings, monkeypatch, receiver):
    settings.DEBUG = True
    monkeypatch.setattr(*FAILS_IN[receiver])
    client = Client(raise_request_exception=False)

    response = deliver(client, receiver, encode(valid(receiver)))

    page = response.content.decode()
    assert response.status_code == 500
    assert "a bug while verifying" in page and "in verify" in page  # the technical page, with the frame
    assert "********************" in page  # ... whose variables are hidden
    assert SECRETS[receiver] not in page
