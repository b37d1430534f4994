"""Reading registries that want credentials: basic auth, and the 401 -> token service -> bearer flow."""

from __future__ import annotations

import socket

import pytest

from devkit.sandbox.registry import TokenServer, publish_signed_image, running_registry
from evidence.sources.oci.client import RegistryClient, RegistryError, Unreachable
from evidence.sources.oci.verification import inspect_artifact


@pytest.fixture
def token_server():
    server = TokenServer(users={"engineer": "s3cret-pass"})
    yield server
    server.stop()


def test_it_reads_a_registry_behind_basic_auth(tmp_path, signing_keys):
    with running_registry(tmp_path, htpasswd={"engineer": "s3cret-pass"}) as registry:
        image = publish_signed_image(
            RegistryClient(registry.url, "engineer:s3cret-pass"), "acme/api", "v1", signing_keys.release
        )
        anonymous = RegistryClient(registry.url)
        engineer = RegistryClient(registry.url, "engineer:s3cret-pass")

        refused = inspect_artifact(anonymous, "acme/api", image.digest, signing_keys.policy())
        report = inspect_artifact(engineer, "acme/api", image.digest, signing_keys.policy())

    assert [f.verdict.verdict for f in refused.signatures] == ["fetch_failed"]
    assert "access denied" in refused.signatures[0].verdict.reason
    assert [f.verdict.verdict for f in report.signatures] == ["verified"]
    assert [f.verdict.verdict for f in report.attestations] == ["verified"]


def test_it_follows_a_401_to_the_token_service_and_retries_with_the_token(tmp_path, signing_keys, token_server):
    with running_registry(tmp_path, token_server=token_server) as registry:
        image = publish_signed_image(
            RegistryClient(registry.url, "engineer:s3cret-pass"), "acme/api", "v1", signing_keys.release
        )
        issued_before = token_server.issued
        client = RegistryClient(registry.url, "engineer:s3cret-pass")

        report = inspect_artifact(client, "acme/api", image.digest, signing_keys.policy())

    assert [f.verdict.verdict for f in report.signatures] == ["verified"]
    assert token_server.issued == issued_before + 1  # one pull token, reused for every later request


def test_it_reports_credentials_the_token_service_refuses_without_repeating_them(tmp_path, signing_keys, token_server):
    with running_registry(tmp_path, token_server=token_server) as registry:
        image = publish_signed_image(
            RegistryClient(registry.url, "engineer:s3cret-pass"), "acme/api", "v1", signing_keys.release
        )
        client = RegistryClient(registry.url, "engineer:wrong-pass")

        with pytest.raises(RegistryError) as raised:
            client.get_manifest("acme/api", image.digest)

    assert "token service" in str(raised.value) and "refused (HTTP 401)" in str(raised.value)
    assert "wrong-pass" not in str(raised.value)
    assert token_server.refused == 1


def test_it_reports_a_registry_that_is_down(signing_keys):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RegistryClient(f"http://127.0.0.1:{port}", timeout=2)

    with pytest.raises(Unreachable, match=f"127.0.0.1:{port}: no answer"):
        client.ping()
    report = inspect_artifact(client, "acme/api", "sha256:" + "1" * 64, signing_keys.policy())

    assert [f.verdict.verdict for f in report.signatures] == ["fetch_failed"]
    assert "no answer" in report.signatures[0].verdict.reason
