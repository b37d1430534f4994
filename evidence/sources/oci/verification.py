"""Everything known about one image digest: its manifest, signatures and provenance, with verdicts.

Discovery, in this order: cosign's `sha256-<hex>.sig` and `.att` tags, then the OCI 1.1 referrers
API (or its tag-schema fallback). Every signature or attestation found becomes a finding carrying
its raw material, so the ledger entry can be re-verified offline by `evidence.sources.oci.offline`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from evidence.sources.oci.client import Manifest, NotFound, RegistryClient, RegistryError
from evidence.sources.oci.keyless import BUNDLE_MEDIA_PREFIX, verify_bundle
from evidence.sources.oci.provenance import (
    Provenance,
    StatementError,
    is_provenance,
    parse_statement,
    read_provenance,
    subject_digests,
)
from evidence.sources.oci.reference import attestation_tag, signature_tag
from evidence.sources.oci.signatures import (
    BUNDLE_ANNOTATION,
    CERTIFICATE_ANNOTATION,
    CHAIN_ANNOTATION,
    DSSE_TYPE,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING_TYPE,
    check_envelope,
    check_simple_signing,
    subject_verdict,
)
from evidence.sources.oci.trust import TrustPolicy
from evidence.sources.oci.verdicts import FETCH_FAILED, INVALID_SIGNATURE, NO_SIGNATURE, VERIFIED, Verdict

COSIGN_SIGNATURE_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
IN_TOTO_ARTIFACT = "application/vnd.in-toto+json"
SIGNATURE_TYPES = (COSIGN_SIGNATURE_ARTIFACT, IN_TOTO_ARTIFACT, SIMPLE_SIGNING_TYPE, DSSE_TYPE)


@dataclass
class Finding:
    """One signature or attestation (or the absence of any), with the material to re-check it."""

    kind: str  # cosign-signature | dsse-attestation | sigstore-bundle | none
    verdict: Verdict
    discovery: str  # signature-tag | attestation-tag | referrers-api | tag-schema | ''
    manifest_digest: str = ""
    material: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None
    predicate_type: str = ""
    keyless: dict[str, Any] = field(default_factory=dict)


@dataclass
class ArtifactReport:
    registry: str
    repository: str
    digest: str
    media_type: str = ""
    manifest: str = ""  # as served (UTF-8 text; JSON manifests are)
    signatures: list[Finding] = field(default_factory=list)
    attestations: list[Finding] = field(default_factory=list)
    looked: dict[str, str] = field(default_factory=dict)  # where we looked and what we found
    errors: list[str] = field(default_factory=list)


def inspect_artifact(client: RegistryClient, repository: str, digest: str, policy: TrustPolicy) -> ArtifactReport:
    """Fetch and verify everything attached to repository@digest. Never raises RegistryError:
    failures become FETCH_FAILED findings with the reason."""
    report = ArtifactReport(client.host, repository, digest)
    try:
        image = client.get_manifest(repository, digest)
    except RegistryError as exc:
        report.errors.append(str(exc))
        report.signatures.append(Finding("none", Verdict(FETCH_FAILED, str(exc)), ""))
        return report
    report.media_type, report.manifest = image.media_type, _text(image.raw)
    seen: set[str] = set()
    for tag, discovery in ((signature_tag(digest), "signature-tag"), (attestation_tag(digest), "attestation-tag")):
        manifest = _fetch(client, report, repository, tag, discovery)
        report.looked[discovery] = "found" if manifest else "absent"
        if manifest:
            seen.add(manifest.digest)
            _read_manifest(client, report, manifest, discovery, policy)
    try:
        how, descriptors = client.referrers(repository, digest)
    except RegistryError as exc:
        report.looked["referrers"] = "failed"
        report.errors.append(str(exc))
        report.signatures.append(Finding("none", Verdict(FETCH_FAILED, f"referrers: {exc}"), "referrers"))
    else:
        report.looked["referrers"] = f"{how}: {len(descriptors)}"
        ignored = 0
        for descriptor in descriptors:
            ref = descriptor.get("digest") if isinstance(descriptor, dict) else None
            if not isinstance(ref, str) or ref in seen:
                continue
            seen.add(ref)
            if descriptor.get("artifactType") and not _is_signature_type(str(descriptor["artifactType"])):
                ignored += 1  # SBOMs, scan reports ...: not signatures or provenance
                continue
            manifest = _fetch(client, report, repository, ref, how)
            if manifest and _carries_signatures(manifest):
                _read_manifest(client, report, manifest, how, policy)
            elif manifest:
                ignored += 1
        if ignored:
            report.looked["referrers_ignored"] = str(ignored)
    if not report.signatures:
        where = ", ".join(f"{k} {v}" for k, v in report.looked.items())
        report.signatures.append(Finding("none", Verdict(NO_SIGNATURE, f"looked at: {where}"), ""))
    return report


def _is_signature_type(media_type: str) -> bool:
    return media_type in SIGNATURE_TYPES or media_type.startswith(BUNDLE_MEDIA_PREFIX)


def _carries_signatures(manifest: Manifest) -> bool:
    """A referrer worth judging: by its artifactType / config type, or by its layers' types."""
    body = manifest.body
    declared = body.get("artifactType") or (body.get("config") or {}).get("mediaType", "")
    if _is_signature_type(str(declared)):
        return True
    layers = body.get("layers") if isinstance(body.get("layers"), list) else []
    return any(isinstance(x, dict) and _is_signature_type(str(x.get("mediaType", ""))) for x in layers)


def _fetch(
    client: RegistryClient, report: ArtifactReport, repository: str, ref: str, discovery: str
) -> Manifest | None:
    try:
        return client.get_manifest(repository, ref)
    except NotFound:
        return None
    except RegistryError as exc:
        report.errors.append(str(exc))
        target = report.attestations if discovery == "attestation-tag" else report.signatures
        target.append(Finding("none", Verdict(FETCH_FAILED, str(exc)), discovery))
        return None


def _read_manifest(
    client: RegistryClient, report: ArtifactReport, manifest: Manifest, discovery: str, policy: TrustPolicy
) -> None:
    """Route a signature/attestation manifest by what it carries (artifactType, config, layer types)."""
    body = manifest.body
    base = {"manifest": _text(manifest.raw), "manifest_digest": manifest.digest}
    layers = body.get("layers")
    if not isinstance(layers, list) or not layers or not all(isinstance(x, dict) for x in layers):
        finding = Finding("cosign-signature", Verdict(INVALID_SIGNATURE, "malformed manifest: no layers"), discovery)
        finding.manifest_digest, finding.material = manifest.digest, base
        report.signatures.append(finding)
        return
    artifact_type = body.get("artifactType") or (body.get("config") or {}).get("mediaType", "")
    for index, layer in enumerate(layers):
        media_type = str(layer.get("mediaType", ""))
        material = {
            **base,
            "layer_index": index,
            "layer_digest": str(layer.get("digest", "")),
            "layer_media_type": media_type,
            "annotations": layer.get("annotations") or {},
        }
        try:
            blob = client.get_blob(report.repository, str(layer.get("digest", "")))
        except RegistryError as exc:
            report.errors.append(str(exc))
            target = report.attestations if media_type == DSSE_TYPE else report.signatures
            target.append(Finding("none", Verdict(FETCH_FAILED, str(exc)), discovery, manifest.digest, material))
            continue
        if media_type.startswith(BUNDLE_MEDIA_PREFIX) or str(artifact_type).startswith(BUNDLE_MEDIA_PREFIX):
            _read_bundle(report, blob, material, discovery, policy)
        elif media_type == DSSE_TYPE or artifact_type == IN_TOTO_ARTIFACT:
            report.attestations.append(check_attestation(report.digest, blob, material, discovery, policy))
        else:
            report.signatures.append(check_signature(report.digest, blob, material, discovery, policy))


def check_signature(
    digest: str, payload: bytes, material: dict[str, Any], discovery: str, policy: TrustPolicy
) -> Finding:
    """A cosign simple-signing layer."""
    annotations = material.get("annotations") or {}
    material = {
        **material,
        "payload_b64": base64.b64encode(payload).decode(),
        "signature_b64": annotations.get(SIGNATURE_ANNOTATION, ""),
        "certificate": annotations.get(CERTIFICATE_ANNOTATION, ""),
        "chain": annotations.get(CHAIN_ANNOTATION, ""),
        "rekor_bundle": annotations.get(BUNDLE_ANNOTATION, ""),
    }
    verdict = check_simple_signing(
        digest, payload, material["layer_digest"], material["signature_b64"], material["certificate"] or None, policy
    )
    return Finding("cosign-signature", verdict, discovery, material.get("manifest_digest", ""), material)


def check_attestation(
    digest: str, envelope: bytes, material: dict[str, Any], discovery: str, policy: TrustPolicy
) -> Finding:
    """A DSSE envelope (cosign .att layer or an in-toto referrer) signed with a key."""
    annotations = material.get("annotations") or {}
    material = {
        **material,
        "envelope_b64": base64.b64encode(envelope).decode(),
        "certificate": annotations.get(CERTIFICATE_ANNOTATION, ""),
    }
    signed, payload = check_envelope(envelope, material["certificate"] or None, policy)
    finding = Finding("dsse-attestation", signed, discovery, material.get("manifest_digest", ""), material)
    _judge_statement(finding, digest, payload)
    return finding


def _read_bundle(
    report: ArtifactReport, raw: bytes, material: dict[str, Any], discovery: str, policy: TrustPolicy
) -> None:
    finding = check_bundle(report.digest, raw, material, discovery, policy)
    (report.attestations if finding.kind == "sigstore-attestation" else report.signatures).append(finding)


def check_bundle(digest: str, raw: bytes, material: dict[str, Any], discovery: str, policy: TrustPolicy) -> Finding:
    """A Sigstore bundle: a signature (message signature or a cosign sign/v1 statement) or provenance."""
    material = {**material, "bundle": _text(raw)}
    result = verify_bundle(raw, digest, policy)
    keyless = {
        "subject": result.subject,
        "issuer": result.issuer,
        "log_index": result.log_index,
        "integrated_time": result.integrated_time,
        "signed_digest": result.signed_digest,
    }
    finding = Finding(
        "sigstore-bundle", result.verdict, discovery, material.get("manifest_digest", ""), material, keyless=keyless
    )
    if result.payload is not None:
        _judge_statement(finding, digest, result.payload)
        if finding.provenance is not None:
            finding.kind = "sigstore-attestation"
    return finding


def _judge_statement(finding: Finding, digest: str, payload: bytes | None) -> None:
    """Parse the in-toto statement; a verified signature over a statement about another digest fails."""
    if payload is None:
        return
    try:
        statement = parse_statement(payload)
    except StatementError as exc:
        if finding.verdict.verdict == VERIFIED:
            finding.verdict = Verdict(INVALID_SIGNATURE, f"signed payload: {exc}", finding.verdict.signer)
        return
    finding.predicate_type = statement["predicateType"]
    finding.verdict = subject_verdict(finding.verdict, subject_digests(statement), digest)
    if is_provenance(statement):
        finding.provenance = read_provenance(statement)


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(raw).decode()


def reverify(data: dict[str, Any], policy: TrustPolicy) -> Verdict:
    """Judge a recorded oci.signature / oci.provenance entry's material again, offline."""
    material, digest, kind = data.get("material") or {}, data["digest"], data.get("signature_kind", "")
    if kind == "cosign-signature":
        payload = base64.b64decode(material.get("payload_b64", ""))
        return check_signature(digest, payload, material, "", policy).verdict
    if kind == "dsse-attestation":
        envelope = base64.b64decode(material.get("envelope_b64", ""))
        return check_attestation(digest, envelope, material, "", policy).verdict
    if kind in ("sigstore-bundle", "sigstore-attestation"):
        return check_bundle(digest, material.get("bundle", "").encode(), material, "", policy).verdict
    return Verdict(data.get("verdict", NO_SIGNATURE), "nothing to re-verify: no signature material was recorded")
