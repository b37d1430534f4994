"""Finding signatures and attestations through OCI 1.1 referrers: the API where the registry has
one, the tag-schema fallback where it does not (Debian's distribution 2.8)."""

from __future__ import annotations

import base64
import json

import requests

from devkit.sandbox.registry import (
    COSIGN_SIG_ARTIFACT,
    IN_TOTO,
    OCI_MANIFEST,
    dsse_envelope,
    push_artifact,
    push_attestation,
    push_image,
    push_signature,
    sign,
    simple_signing_payload,
    slsa_provenance,
)
from evidence.sources.oci.client import RegistryClient
from evidence.sources.oci.verification import inspect_artifact


def test_it_falls_back_to_the_referrers_tag_schema_when_the_registry_has_no_referrers_api(
    oci_registry, oci_client, signing_keys
):
    image = push_image(oci_client, "acme/web", "v1", b"web v1")
    push_signature(oci_client, "acme/web", image.digest, signing_keys.release, referrer=True)
    envelope = dsse_envelope(slsa_provenance([image.digest], commit="ab" * 20), signing_keys.release)
    push_attestation(oci_client, "acme/web", image.digest, envelope, referrer=True)

    api = requests.get(f"{oci_registry.url}/v2/acme/web/referrers/{image.digest}", timeout=5)
    report = inspect_artifact(oci_client, "acme/web", image.digest, signing_keys.policy())

    assert api.status_code == 404  # distribution 2.8: no referrers endpoint
    assert report.looked["referrers"] == "tag-schema: 2"
    assert [(f.discovery, f.verdict.verdict) for f in report.signatures] == [("tag-schema", "verified")]
    assert [(f.discovery, f.verdict.verdict) for f in report.attestations] == [("tag-schema", "verified")]
    assert report.attestations[0].provenance.source_commit == "ab" * 20


def test_it_uses_the_referrers_api_when_the_registry_answers_it(referrers_registry, signing_keys):
    fake = referrers_registry
    config = fake.add_blob(b"{}")
    layer = fake.add_blob(b"layer")
    image_manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 5}],
    }
    digest = fake.add_manifest(image_manifest, tag="v1")
    subject = {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(json.dumps(image_manifest))}
    payload = simple_signing_payload("acme/web", digest)
    signature = base64.b64encode(sign(signing_keys.release, payload)).decode()
    fake.add_manifest(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": COSIGN_SIG_ARTIFACT,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
            "layers": [
                {
                    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "digest": fake.add_blob(payload),
                    "size": len(payload),
                    "annotations": {"dev.cosignproject.cosign/signature": signature},
                }
            ],
            "subject": subject,
        }
    )
    envelope = dsse_envelope(slsa_provenance([digest], commit="cd" * 20), signing_keys.release_ed25519)
    fake.add_manifest(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": IN_TOTO,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
            "layers": [
                {
                    "mediaType": "application/vnd.dsse.envelope.v1+json",
                    "digest": fake.add_blob(envelope),
                    "size": len(envelope),
                }
            ],
            "subject": subject,
        }
    )

    report = inspect_artifact(RegistryClient(fake.url), "acme/web", digest, signing_keys.policy())

    assert report.looked["referrers"] == "referrers-api: 2"
    assert [(f.discovery, f.verdict.verdict) for f in report.signatures] == [("referrers-api", "verified")]
    assert [(f.discovery, f.verdict.verdict) for f in report.attestations] == [("referrers-api", "verified")]
    assert report.attestations[0].provenance.source_commit == "cd" * 20
    fallback_tag = digest.replace(":", "-")
    assert not any(path.endswith(f"/manifests/{fallback_tag}") for path in fake.paths)


def test_it_ignores_referrers_that_are_not_signatures(oci_client, signing_keys):
    image = push_image(oci_client, "acme/web", "v2", b"web v2")
    sbom = oci_client.push_blob("acme/web", b'{"spdxVersion": "SPDX-2.3"}')
    _push_referrer(oci_client, "acme/web", image.digest, "application/spdx+json", sbom)
    push_signature(oci_client, "acme/web", image.digest, signing_keys.release, referrer=True)

    report = inspect_artifact(oci_client, "acme/web", image.digest, signing_keys.policy())

    assert report.looked["referrers"] == "tag-schema: 2"
    assert report.looked["referrers_ignored"] == "1"
    assert [f.verdict.verdict for f in report.signatures] == ["verified"]


def _push_referrer(client, repository, digest, artifact_type, blob):
    layer = {"mediaType": artifact_type, "digest": blob, "size": 27}
    return push_artifact(client, repository, digest, artifact_type, [layer], True, "")
