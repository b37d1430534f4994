"""Keyed cosign signatures on images in a real registry, judged against the trusted keys."""

from __future__ import annotations

import base64
import json

from devkit.sandbox.registry import push_image, push_signature, self_signed_certificate, sign, simple_signing_payload
from evidence.sources.oci.reference import signature_tag
from evidence.sources.oci.trust import load_policy
from evidence.sources.oci.verification import inspect_artifact, reverify


def _verdicts(report):
    return [(f.kind, f.verdict.verdict) for f in report.signatures]


def test_it_verifies_a_signature_by_a_trusted_ecdsa_key(oci_client, signing_keys):
    image = push_image(oci_client, "acme/payments", "v1", b"payments v1")
    push_signature(oci_client, "acme/payments", image.digest, signing_keys.release)

    report = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy())

    assert _verdicts(report) == [("cosign-signature", "verified")]
    assert report.signatures[0].verdict.signer.startswith("key:release (sha256:")
    assert report.signatures[0].discovery == "signature-tag"


def test_it_verifies_a_signature_by_a_trusted_ed25519_key(oci_client, signing_keys):
    image = push_image(oci_client, "acme/payments", "v1-ed", b"payments ed25519")
    push_signature(oci_client, "acme/payments", image.digest, signing_keys.release_ed25519)

    report = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy())

    assert _verdicts(report) == [("cosign-signature", "verified")]
    assert report.signatures[0].verdict.signer.startswith("key:release-ed25519 ")


def test_it_calls_a_signature_by_an_unknown_key_an_untrusted_signer(oci_client, signing_keys):
    image = push_image(oci_client, "acme/payments", "v2", b"payments v2")
    push_signature(oci_client, "acme/payments", image.digest, signing_keys.stranger)

    report = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy())

    assert _verdicts(report) == [("cosign-signature", "untrusted_signer")]


def test_it_fails_a_signature_copied_from_another_image(oci_client, signing_keys):
    genuine = push_image(oci_client, "acme/payments", "v3", b"payments v3")
    other = push_image(oci_client, "acme/payments", "v3-evil", b"something else")
    copied = simple_signing_payload("acme/payments", genuine.digest)  # trusted key, but for genuine
    push_signature(oci_client, "acme/payments", other.digest, signing_keys.release, payload=copied)

    report = inspect_artifact(oci_client, "acme/payments", other.digest, signing_keys.policy())

    assert _verdicts(report) == [("cosign-signature", "digest_mismatch")]
    assert genuine.digest in report.signatures[0].verdict.reason


def test_it_fails_a_payload_altered_in_registry_storage(oci_client, signing_keys, oci_registry):
    image = push_image(oci_client, "acme/payments", "v4", b"payments v4")
    push_signature(oci_client, "acme/payments", image.digest, signing_keys.release)
    layer = json.loads(oci_client.get_manifest("acme/payments", signature_tag(image.digest)).raw)["layers"][0]
    path = oci_registry.blob_path(layer["digest"])
    path.write_bytes(path.read_bytes().replace(b"cosign container image", b"cosign container IMAGE"))

    report = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy())

    assert _verdicts(report) == [("cosign-signature", "invalid_signature")]
    assert "not the layer digest" in report.signatures[0].verdict.reason


def test_it_fails_a_tampered_payload_that_names_its_signer(oci_client, signing_keys):
    """With the signer's certificate attached, a payload changed after signing is told apart from
    an unknown signer: the signature no longer verifies under the certificate's own key."""
    image = push_image(oci_client, "acme/payments", "v5", b"payments v5")
    payload = simple_signing_payload("acme/payments", image.digest)
    signature = sign(signing_keys.stranger, payload)
    tampered = payload.replace(b'"optional":null', b'"optional":{"by":"mallory"}')
    cert = self_signed_certificate(signing_keys.stranger, "builder@example.com")
    push_signature(
        oci_client,
        "acme/payments",
        image.digest,
        None,
        payload=tampered,
        signature=signature,
        annotations={"dev.sigstore.cosign/certificate": cert},
    )

    report = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy())

    assert _verdicts(report) == [("cosign-signature", "invalid_signature")]
    assert report.signatures[0].verdict.signer == "builder@example.com"


def test_it_fails_a_malformed_signature_manifest(oci_client, signing_keys):
    image = push_image(oci_client, "acme/payments", "v6", b"payments v6")
    push_signature(oci_client, "acme/payments", image.digest, None)  # a layer without the signature annotation

    report = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy())

    assert _verdicts(report) == [("cosign-signature", "invalid_signature")]
    assert "malformed signature layer" in report.signatures[0].verdict.reason


def test_it_fails_a_signature_manifest_without_layers(oci_client, signing_keys):
    image = push_image(oci_client, "acme/payments", "v6b", b"payments v6b")
    empty = oci_client.push_blob("acme/payments", b"{}")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": empty, "size": 2},
        "layers": [],
    }
    oci_client.push_manifest(
        "acme/payments", signature_tag(image.digest), json.dumps(manifest).encode(), manifest["mediaType"]
    )

    report = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy())

    assert _verdicts(report) == [("cosign-signature", "invalid_signature")]
    assert "malformed manifest" in report.signatures[0].verdict.reason


def test_it_reports_no_signature_when_none_is_published(oci_client, signing_keys):
    image = push_image(oci_client, "acme/payments", "v7", b"payments v7")

    report = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy())

    assert _verdicts(report) == [("none", "no_signature")]
    assert report.looked == {"signature-tag": "absent", "attestation-tag": "absent", "referrers": "tag-schema: 0"}


def test_it_reports_an_image_it_cannot_fetch(oci_client, signing_keys):
    missing = "sha256:" + "0" * 64

    report = inspect_artifact(oci_client, "acme/payments", missing, signing_keys.policy())

    assert _verdicts(report) == [("none", "fetch_failed")]
    assert "not found" in report.signatures[0].verdict.reason


def test_it_records_material_that_verifies_again_offline(oci_client, signing_keys):
    image = push_image(oci_client, "acme/payments", "v8", b"payments v8")
    push_signature(oci_client, "acme/payments", image.digest, signing_keys.release)
    finding = inspect_artifact(oci_client, "acme/payments", image.digest, signing_keys.policy()).signatures[0]
    data = {"digest": image.digest, "signature_kind": finding.kind, "material": finding.material}

    again = reverify(json.loads(json.dumps(data)), signing_keys.policy())  # as stored: plain JSON
    payload = base64.b64decode(finding.material["payload_b64"]).replace(b"acme/payments", b"acme/evil")
    forged = {**data, "material": {**finding.material, "payload_b64": base64.b64encode(payload).decode()}}

    assert finding.verdict.verdict == "verified"
    assert again.verdict == "verified"
    assert reverify(forged, signing_keys.policy()).verdict == "invalid_signature"
    assert reverify(data, load_policy([], [])).verdict == "untrusted_signer"  # judged by today's trust
