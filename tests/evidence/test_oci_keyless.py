"""Keyless Sigstore bundles verified offline with `sigstore` against a trusted root file.

Bundles: sigstore-python's own test assets (tests/evidence/data/sigstore/README.md), signed on
Sigstore staging. Trusted root: the staging trusted_root.json shipped inside the installed
`sigstore` package, handed over as an operator's file; the production root plays a wrong one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import sigstore

from evidence.oci.trust import load_policy
from evidence.oci.verification import inspect_artifact
from evidence.sandbox.registry import push_bundle, push_image

pytest_plugins = ["tests.evidence.oci_support"]

DATA = Path(__file__).parent / "data"
STORE = Path(sigstore.__file__).parent / "_store"
STAGING_ROOT = STORE / "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev" / "trusted_root.json"
PRODUCTION_ROOT = STORE / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / "trusted_root.json"
DSSE_BUNDLE = (DATA / "sigstore" / "a.dsse.staging-rekor-v2.txt.sigstore.json").read_bytes()
A_TXT = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"  # its statement's subject
BEACON = {
    "issuer": "https://token.actions.githubusercontent.com",
    "subject": "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/*",
}
MESSAGE_BUNDLE = (DATA / "sigstore" / "bundle_v3.txt.sigstore").read_bytes()
MESSAGE_DIGEST = "sha256:" + hashlib.sha256((DATA / "sigstore" / "bundle_v3.txt").read_bytes()).hexdigest()
WILLIAM = {"issuer": "https://github.com/login/oauth", "subject": "william@yossarian.net"}


@pytest.fixture(autouse=True)
def _trust_material_is_installed():
    assert STAGING_ROOT.is_file(), f"the sigstore package no longer ships {STAGING_ROOT}"


def _check(raw, digest, **policy):
    from evidence.oci.verification import check_bundle

    return check_bundle(digest, raw, {}, "test", load_policy([], **policy))


def test_it_verifies_a_dsse_provenance_bundle_offline_for_a_trusted_identity():
    finding = _check(DSSE_BUNDLE, A_TXT, identities=[BEACON], trusted_root=str(STAGING_ROOT))

    assert finding.verdict.verdict == "verified"
    assert finding.verdict.signer == f"identity:{BEACON['subject']} from {BEACON['issuer']}"
    assert finding.kind == "sigstore-attestation"
    assert finding.provenance.predicate_type == "https://slsa.dev/provenance/v1"
    assert finding.keyless["issuer"] == BEACON["issuer"]
    assert finding.keyless["log_index"] is not None


def test_it_calls_an_identity_outside_the_policy_an_untrusted_signer():
    other = {"issuer": BEACON["issuer"], "subject": "https://github.com/acme/*"}

    finding = _check(DSSE_BUNDLE, A_TXT, identities=[other], trusted_root=str(STAGING_ROOT))

    assert finding.verdict.verdict == "untrusted_signer"
    assert "extremely-dangerous-public-oidc-beacon" in finding.verdict.signer


def test_it_fails_a_bundle_whose_statement_was_altered():
    bundle = json.loads(DSSE_BUNDLE)
    statement = base64.b64decode(bundle["dsseEnvelope"]["payload"]).replace(b'"a.txt"', b'"b.txt"')
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(statement).decode()

    finding = _check(json.dumps(bundle).encode(), A_TXT, identities=[BEACON], trusted_root=str(STAGING_ROOT))

    assert finding.verdict.verdict == "invalid_signature"
    assert finding.verdict.reason.startswith("Sigstore verification failed")


def test_it_fails_a_bundle_whose_ca_is_not_in_the_trusted_root():
    finding = _check(DSSE_BUNDLE, A_TXT, identities=[BEACON], trusted_root=str(PRODUCTION_ROOT))

    assert finding.verdict.verdict == "invalid_signature"


def test_it_does_not_trust_a_bundle_without_a_trusted_root():
    finding = _check(DSSE_BUNDLE, A_TXT, identities=[BEACON])

    assert finding.verdict.verdict == "untrusted_signer"
    assert "no trusted_root configured" in finding.verdict.reason


def test_it_fails_a_verified_statement_about_another_digest():
    finding = _check(DSSE_BUNDLE, "sha256:" + "ee" * 32, identities=[BEACON], trusted_root=str(STAGING_ROOT))

    assert finding.verdict.verdict == "digest_mismatch"


def test_it_verifies_a_message_signature_bundle_only_for_its_own_digest():
    good = _check(MESSAGE_BUNDLE, MESSAGE_DIGEST, identities=[WILLIAM], trusted_root=str(STAGING_ROOT))
    copied = _check(MESSAGE_BUNDLE, "sha256:" + "ee" * 32, identities=[WILLIAM], trusted_root=str(STAGING_ROOT))

    assert (good.kind, good.verdict.verdict) == ("sigstore-bundle", "verified")
    assert copied.verdict.verdict == "digest_mismatch"


def test_it_finds_a_bundle_attached_to_an_image_as_a_referrer(oci_client):
    image = push_image(oci_client, "acme/keyless", "v1", b"keyless v1")
    push_bundle(oci_client, "acme/keyless", image.digest, DSSE_BUNDLE)
    policy = load_policy([], [BEACON], str(STAGING_ROOT))

    report = inspect_artifact(oci_client, "acme/keyless", image.digest, policy)

    # A genuine bundle, but its statement is about a.txt, not this image: never a pass.
    assert [(f.kind, f.discovery, f.verdict.verdict) for f in report.attestations] == [
        ("sigstore-attestation", "tag-schema", "digest_mismatch")
    ]
    assert report.attestations[0].material["bundle"] == DSSE_BUNDLE.decode()
    assert [f.verdict.verdict for f in report.signatures] == ["no_signature"]
