"""Provenance from GitHub's artifact attestations API, for repositories an OCI source names."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from evidence.harvest import harvest_target
from evidence.models import Provenance, Source
from evidence.oci.github_attestations import check_github_attestations
from evidence.oci.trust import load_policy
from evidence.sandbox.registry import push_image
from ledger.models import Entry
from tests.evidence.test_oci_keyless import A_TXT, BEACON, DSSE_BUNDLE, STAGING_ROOT

pytest_plugins = ["tests.evidence.oci_support"]


class FakeGitHub:
    """GET /repos/<owner>/<repo>/attestations/<digest>: the bundles held for each digest."""

    def __init__(self) -> None:
        self.bundles: dict[str, list[dict]] = {}
        self.status = 200
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append((self.path, self.headers.get("Authorization", "")))
                digest = self.path.split("?")[0].rsplit("/", 1)[-1]
                items = fake.bundles.get(digest)
                status = fake.status if items is not None or fake.status != 200 else 404
                body = json.dumps(
                    {"attestations": [{"bundle": b, "repository_id": 4242} for b in items or []]}
                    if status == 200
                    else {"message": "Not Found" if status == 404 else "Server Error"}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def github():
    fake = FakeGitHub()
    fake.bundles[A_TXT] = [json.loads(DSSE_BUNDLE)]
    yield fake
    fake.stop()


def test_it_verifies_provenance_from_the_attestations_api(github):
    policy = load_policy([], [BEACON], str(STAGING_ROOT))

    [finding] = check_github_attestations(requests.Session(), github.url, "acme/payments", A_TXT, policy, "ghp-token")

    assert (finding.discovery, finding.kind, finding.verdict.verdict) == (
        "github-attestations",
        "sigstore-attestation",
        "verified",
    )
    assert finding.provenance.predicate_type == "https://slsa.dev/provenance/v1"
    assert github.requests == [(f"/repos/acme/payments/attestations/{A_TXT}?per_page=100", "Bearer ghp-token")]


def test_it_reports_an_attestations_api_that_fails(github):
    github.status = 500
    policy = load_policy([], [BEACON], str(STAGING_ROOT))

    [finding] = check_github_attestations(requests.Session(), github.url, "acme/payments", A_TXT, policy)

    assert finding.verdict.verdict == "fetch_failed"
    assert "HTTP 500" in finding.verdict.reason


@pytest.mark.django_db
def test_it_records_github_provenance_for_a_harvested_image(
    github, oci_registry, oci_client, signing_keys, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    image = push_image(oci_client, "acme/gh", "v1", b"gh v1")
    github.bundles[image.digest] = [json.loads(DSSE_BUNDLE)]  # genuine, but about a.txt
    monkeypatch.setenv("GH_ATTESTATIONS_TOKEN", "ghp-secret-token")
    source = Source.objects.create(
        name="registry",
        kind="oci",
        url=oci_registry.url,
        config={
            "images": ["acme/gh"],
            "trusted_identities": [BEACON],
            "trusted_root": str(STAGING_ROOT),
            "github_repositories": ["acme/payments"],
            "github_api_url": github.url,
            "github_credential_env": "GH_ATTESTATIONS_TOKEN",
        },
    )

    with django_capture_on_commit_callbacks(execute=True):
        run = harvest_target(source, "acme/gh")

    assert run.status == "succeeded", run.errors
    [row] = Provenance.objects.filter(digest=image.digest)
    assert row.verdict == "digest_mismatch"  # a statement about another artifact is never a pass
    entry = Entry.objects.get(seq=row.entry_seq)
    assert entry.data["discovery"] == "github-attestations"
    assert json.loads(entry.data["material"]["bundle"]) == json.loads(DSSE_BUNDLE)
    assert not any(b"ghp-secret-token" in bytes(e.payload) for e in Entry.objects.all())
    assert github.requests[-1][1] == "Bearer ghp-secret-token"
