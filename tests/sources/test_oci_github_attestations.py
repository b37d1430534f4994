"""Provenance from GitHub's artifact attestations API, for repositories an OCI source names.

The bundles GitHub would serve are made by tests/support/sigstore_fixtures.py and verified offline
against the trusted root it writes."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from devkit.sandbox.registry import push_image
from evidence.readmodels.models import Provenance
from evidence.sources.harvest import harvest_target
from evidence.sources.models import Source
from evidence.sources.oci.github_attestations import check_github_attestations
from evidence.sources.oci.trust import load_policy
from ledger.models import Entry
from tests.support.sigstore_fixtures import COMMIT, RELEASER, WORKFLOW, provenance_statement

RELEASE = "sha256:" + hashlib.sha256(b"payments release tarball").hexdigest()


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
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def github(sigstore_instance):
    fake = FakeGitHub()
    fake.bundles[RELEASE] = [json.loads(sigstore_instance.dsse_bundle(provenance_statement(RELEASE)))]
    yield fake
    fake.stop()


def test_it_verifies_provenance_from_the_attestations_api(github, sigstore_root):
    policy = load_policy([], [RELEASER], str(sigstore_root))

    [finding] = check_github_attestations(requests.Session(), github.url, "acme/payments", RELEASE, policy, "ghp-token")

    assert (finding.discovery, finding.kind, finding.verdict.verdict) == (
        "github-attestations",
        "sigstore-attestation",
        "verified",
    )
    assert finding.provenance.predicate_type == "https://slsa.dev/provenance/v1"
    assert (finding.provenance.builder_id, finding.provenance.source_commit) == (WORKFLOW, COMMIT)
    assert github.requests == [(f"/repos/acme/payments/attestations/{RELEASE}?per_page=100", "Bearer ghp-token")]


def test_it_does_not_pass_an_attested_statement_about_another_digest(github, sigstore_root):
    other = "sha256:" + "ee" * 32
    github.bundles[other] = github.bundles[RELEASE]  # genuine, but about the release tarball
    policy = load_policy([], [RELEASER], str(sigstore_root))

    [finding] = check_github_attestations(requests.Session(), github.url, "acme/payments", other, policy)

    assert finding.verdict.verdict == "digest_mismatch"


def test_it_reports_an_attestations_api_that_fails(github, sigstore_root):
    github.status = 500
    policy = load_policy([], [RELEASER], str(sigstore_root))

    [finding] = check_github_attestations(requests.Session(), github.url, "acme/payments", RELEASE, policy)

    assert finding.verdict.verdict == "fetch_failed"
    assert "HTTP 500" in finding.verdict.reason


@pytest.mark.django_db
def test_it_records_github_provenance_for_a_harvested_image(
    github,
    sigstore_instance,
    sigstore_root,
    oci_registry,
    oci_client,
    settings,
    projected,
    monkeypatch,
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    image = push_image(oci_client, "acme/gh", "v1", b"gh v1")
    bundle = sigstore_instance.dsse_bundle(provenance_statement(image.digest))
    github.bundles[image.digest] = [json.loads(bundle)]
    monkeypatch.setenv("GH_ATTESTATIONS_TOKEN", "ghp-secret-token")
    source = Source.objects.create(
        name="registry",
        kind="oci",
        url=oci_registry.url,
        config={
            "images": ["acme/gh"],
            "trusted_identities": [RELEASER],
            "trusted_root": str(sigstore_root),
            "github_repositories": ["acme/payments"],
            "github_api_url": github.url,
            "github_credential_env": "GH_ATTESTATIONS_TOKEN",
        },
    )

    run = harvest_target(source, "acme/gh")

    assert run.status == "succeeded", run.errors
    [row] = Provenance.objects.filter(digest=image.digest)
    assert (row.verdict, row.builder_id, row.source_commit) == ("verified", WORKFLOW, COMMIT), row.reason
    assert row.signer == f"identity:{RELEASER['subject']} from {RELEASER['issuer']}"
    entry = Entry.objects.get(seq=row.entry_seq)
    assert entry.data["discovery"] == "github-attestations"
    assert json.loads(entry.data["material"]["bundle"]) == json.loads(bundle)
    assert not any(b"ghp-secret-token" in bytes(e.payload) for e in Entry.objects.all())
    assert github.requests[-1][1] == "Bearer ghp-secret-token"
