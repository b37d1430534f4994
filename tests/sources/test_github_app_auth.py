"""GitHub App installation auth: the credential is the App's private key; PyGithub mints tokens."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from evidence.sources.models import Source
from tests.support.forge_fixtures import REPO, kinds, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def keypair() -> tuple[str, str]:
    """An RSA key pair in PEM: (private, public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


def test_it_harvests_as_an_app_installation(db, fake_github, github_model, monkeypatch, tmp_path):
    pem, public = keypair()
    github_model.apps[4242] = public
    github_model.tokens.clear()  # only a freshly minted installation token will do
    (tmp_path / "app.pem").write_text(pem)
    monkeypatch.setenv("ACME_APP_KEY_FILE", str(tmp_path / "app.pem"))
    source = Source.objects.create(
        name="acme-app",
        kind="github",
        url=fake_github.url,
        credential_env="ACME_APP_KEY",
        config={"repositories": [REPO], "app_id": 4242, "installation_id": 99, "seconds_between_requests": 0},
    )

    result = run(source, REPO)

    assert result.status == "succeeded", result.errors
    assert [r.status for r in fake_github.requests_to(r"^/app/installations/99/access_tokens$")] == [201]
    assert kinds()["github.pull_request"] == 3


def test_it_fails_clearly_with_a_key_the_app_does_not_have(db, fake_github, github_model, monkeypatch):
    github_model.apps[4242] = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    monkeypatch.setenv("ACME_APP_KEY", pem.decode())
    source = Source.objects.create(
        name="acme-app",
        kind="github",
        url=fake_github.url,
        credential_env="ACME_APP_KEY",
        config={"repositories": [REPO], "app_id": 4242, "installation_id": 99, "seconds_between_requests": 0},
    )

    result = run(source, REPO)

    assert result.status == "failed"
    assert "401" in result.errors[0]
    assert "PRIVATE KEY" not in result.errors[0]
