"""SLSA provenance in DSSE envelopes: which builder and source commit made a digest, and whether
the statement can be trusted."""

from __future__ import annotations

import json

from devkit.sandbox.registry import dsse_envelope, push_attestation, push_image, slsa_provenance
from evidence.sources.oci.provenance import parse_statement, read_provenance
from evidence.sources.oci.verification import inspect_artifact

DIGEST = "sha256:" + "5e" * 32


def test_it_reads_builder_source_and_invocation_from_slsa_v1():
    statement = slsa_provenance(
        [DIGEST],
        repository="https://github.com/acme/payments",
        commit="1f" * 20,
        builder_id="https://github.com/actions/runner/github-hosted",
        invocation_id="https://github.com/acme/payments/actions/runs/77/attempts/2",
        ref="refs/tags/v1.4.0",
    )

    provenance = read_provenance(parse_statement(json.dumps(statement).encode()))

    assert provenance.subjects == [DIGEST]
    assert provenance.builder_id == "https://github.com/actions/runner/github-hosted"
    assert provenance.build_type == "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
    assert (provenance.source_repo, provenance.source_commit) == ("https://github.com/acme/payments", "1f" * 20)
    assert provenance.source_ref == "refs/tags/v1.4.0"
    assert provenance.invocation_id == "https://github.com/acme/payments/actions/runs/77/attempts/2"


def test_it_picks_the_declared_repository_among_several_git_dependencies():
    statement = slsa_provenance([DIGEST], repository="https://github.com/acme/payments", commit="aa" * 20)
    deps = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    deps.insert(
        0, {"uri": "git+https://github.com/acme/build-tools@refs/heads/main", "digest": {"gitCommit": "bb" * 20}}
    )

    provenance = read_provenance(statement)

    assert (provenance.source_repo, provenance.source_commit) == ("https://github.com/acme/payments", "aa" * 20)


def test_it_reads_slsa_v0_2_provenance():
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "registry.example/acme/payments", "digest": {"sha256": "5e" * 32}}],
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "predicate": {
            "builder": {
                "id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.9.0"
            },
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
            "invocation": {
                "configSource": {
                    "uri": "git+https://github.com/acme/payments@refs/heads/main",
                    "digest": {"sha1": "9c" * 20},
                    "entryPoint": ".github/workflows/release.yml",
                }
            },
            "metadata": {"buildInvocationId": "4242-1"},
            "materials": [
                {"uri": "git+https://github.com/acme/payments@refs/heads/main", "digest": {"sha1": "9c" * 20}}
            ],
        },
    }

    provenance = read_provenance(parse_statement(json.dumps(statement).encode()))

    assert provenance.predicate_type == "https://slsa.dev/provenance/v0.2"
    assert provenance.builder_id.endswith("generator_container_slsa3.yml@refs/tags/v1.9.0")
    assert provenance.build_type == "https://github.com/slsa-framework/slsa-github-generator/container@v1"
    assert (provenance.source_repo, provenance.source_commit) == ("https://github.com/acme/payments", "9c" * 20)
    assert provenance.invocation_id == "4242-1"


def test_it_verifies_provenance_attached_at_the_att_tag(oci_client, signing_keys):
    image = push_image(oci_client, "acme/prov", "v1", b"prov v1")
    envelope = dsse_envelope(slsa_provenance([image.digest], commit="12" * 20), signing_keys.release)
    push_attestation(oci_client, "acme/prov", image.digest, envelope)

    report = inspect_artifact(oci_client, "acme/prov", image.digest, signing_keys.policy())

    [finding] = report.attestations
    assert (finding.discovery, finding.verdict.verdict) == ("attestation-tag", "verified")
    assert finding.provenance.source_commit == "12" * 20


def test_it_keeps_provenance_signed_by_an_unknown_key_as_unverified(oci_client, signing_keys):
    image = push_image(oci_client, "acme/prov", "v2", b"prov v2")
    envelope = dsse_envelope(slsa_provenance([image.digest], commit="34" * 20), signing_keys.stranger)
    push_attestation(oci_client, "acme/prov", image.digest, envelope)

    [finding] = inspect_artifact(oci_client, "acme/prov", image.digest, signing_keys.policy()).attestations

    assert finding.verdict.verdict == "untrusted_signer"
    assert finding.provenance.source_commit == "34" * 20  # read, but not trusted


def test_it_fails_provenance_about_another_digest(oci_client, signing_keys):
    image = push_image(oci_client, "acme/prov", "v3", b"prov v3")
    envelope = dsse_envelope(slsa_provenance([DIGEST], commit="56" * 20), signing_keys.release)
    push_attestation(oci_client, "acme/prov", image.digest, envelope)

    [finding] = inspect_artifact(oci_client, "acme/prov", image.digest, signing_keys.policy()).attestations

    assert finding.verdict.verdict == "digest_mismatch"
    assert DIGEST in finding.verdict.reason


def test_it_fails_an_envelope_that_is_not_dsse(oci_client, signing_keys):
    image = push_image(oci_client, "acme/prov", "v4", b"prov v4")
    push_attestation(oci_client, "acme/prov", image.digest, b'{"payload": 1}')

    [finding] = inspect_artifact(oci_client, "acme/prov", image.digest, signing_keys.policy()).attestations

    assert finding.verdict.verdict == "invalid_signature"
    assert finding.verdict.reason.startswith("malformed DSSE envelope")
