"""Keyed checks: cosign simple-signing signatures and DSSE envelopes, judged against a TrustPolicy.

Pure functions of the raw material, so a recorded entry can be re-verified offline with the same
code. Order matters for the verdict: integrity of the material first, then who signed, then
whether what was signed names this digest.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography import x509

from evidence.sources.oci.reference import sha256_digest
from evidence.sources.oci.trust import TrustedKey, TrustPolicy, public_key_fingerprint, verify_with_key
from evidence.sources.oci.verdicts import DIGEST_MISMATCH, INVALID_SIGNATURE, UNTRUSTED_SIGNER, VERIFIED, Verdict

SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
SIMPLE_SIGNING_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_TYPE = "application/vnd.dsse.envelope.v1+json"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def decode_b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None


def claimed_digest(payload: bytes) -> str | None:
    """critical.image.docker-manifest-digest of a simple-signing payload (cosign spells the key
    `docker-manifest-digest`, the atomic spec `Docker-manifest-digest`); None if not one."""
    try:
        doc = json.loads(payload)
        image = doc["critical"]["image"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(image, dict):
        return None
    for key, value in image.items():
        if key.lower() == "docker-manifest-digest" and isinstance(value, str):
            return value
    return None


def find_signer(policy: TrustPolicy, signature: bytes, message: bytes) -> TrustedKey | None:
    return next((k for k in policy.keys if verify_with_key(k.public_key, signature, message)), None)


def judge_unverified(signature: bytes, message: bytes, certificate_pem: str | None) -> Verdict:
    """No trusted key verifies: tell an unknown signer from a broken signature where the material can."""
    if certificate_pem:
        try:
            cert = x509.load_pem_x509_certificate(certificate_pem.encode())
            key = cert.public_key()
        except ValueError:
            return Verdict(INVALID_SIGNATURE, "the attached certificate is not a PEM X.509 certificate")
        who = certificate_identity(cert)
        if verify_with_key(key, signature, message):  # type: ignore[arg-type]
            return Verdict(
                UNTRUSTED_SIGNER,
                "signed by the attached certificate, which is no trusted key; certificates outside a "
                "Sigstore bundle are not chain-verified",
                who or public_key_fingerprint(key),  # type: ignore[arg-type]
            )
        return Verdict(INVALID_SIGNATURE, "the signature does not verify under the attached certificate's key", who)
    return Verdict(
        UNTRUSTED_SIGNER,
        "verifies under no trusted key; the material names no signer key, so an unknown signer and an "
        "altered payload look the same here",
    )


def check_simple_signing(
    image_digest: str,
    payload: bytes,
    layer_digest: str,
    signature_b64: str | None,
    certificate_pem: str | None,
    policy: TrustPolicy,
) -> Verdict:
    """A cosign signature layer: payload blob + base64 signature annotation (+ optional certificate)."""
    if not signature_b64:
        return Verdict(INVALID_SIGNATURE, f"malformed signature layer: no {SIGNATURE_ANNOTATION} annotation")
    signature = decode_b64(signature_b64)
    if signature is None:
        return Verdict(INVALID_SIGNATURE, f"malformed signature layer: {SIGNATURE_ANNOTATION} is not base64")
    actual = sha256_digest(payload)
    if actual != layer_digest:
        return Verdict(INVALID_SIGNATURE, f"payload bytes hash to {actual}, not the layer digest {layer_digest}")
    signer = find_signer(policy, signature, payload)
    if signer is None:
        return judge_unverified(signature, payload, certificate_pem)
    claimed = claimed_digest(payload)
    if claimed is None:
        return Verdict(INVALID_SIGNATURE, "signed payload is not a simple-signing document", signer.label)
    if claimed != image_digest:
        return Verdict(DIGEST_MISMATCH, f"payload signs {claimed}, not {image_digest}", signer.label)
    return Verdict(VERIFIED, "", signer.label)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: what a DSSE signature is over."""
    # Reference: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def parse_envelope(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """(envelope, '') or (None, why it is not a DSSE envelope)."""
    try:
        env = json.loads(raw)
    except ValueError:
        return None, "not JSON"
    if not isinstance(env, dict) or not isinstance(env.get("payloadType"), str):
        return None, "no payloadType"
    if not isinstance(env.get("payload"), str) or decode_b64(env["payload"]) is None:
        return None, "payload is not base64"
    if not isinstance(env.get("signatures"), list) or not env["signatures"]:
        return None, "no signatures"
    return env, ""


def check_envelope(raw: bytes, certificate_pem: str | None, policy: TrustPolicy) -> tuple[Verdict, bytes | None]:
    """Verify a DSSE envelope's signatures; return the verdict on who signed and the payload bytes.

    The caller decides DIGEST_MISMATCH from the statement's subjects, since only it knows the image.
    """
    env, why = parse_envelope(raw)
    if env is None:
        return Verdict(INVALID_SIGNATURE, f"malformed DSSE envelope: {why}"), None
    payload = decode_b64(env["payload"]) or b""
    message = pae(env["payloadType"], payload)
    first: bytes | None = None
    for item in env["signatures"]:
        signature = decode_b64(item.get("sig", "")) if isinstance(item, dict) else None
        if not signature:
            continue
        first = first or signature
        signer = find_signer(policy, signature, message)
        if signer is not None:
            return Verdict(VERIFIED, "", signer.label), payload
    if first is None:
        return Verdict(INVALID_SIGNATURE, "malformed DSSE envelope: no base64 signature"), payload
    return judge_unverified(first, message, certificate_pem), payload


def subject_verdict(signed: Verdict, subjects: list[str], image_digest: str) -> Verdict:
    """A verified statement must name the image among its subjects."""
    if signed.verdict != VERIFIED:
        return signed
    if image_digest not in subjects:
        named = ", ".join(subjects) or "no digest"
        return Verdict(DIGEST_MISMATCH, f"statement is about {named}, not {image_digest}", signed.signer)
    return signed


def certificate_identity(cert: x509.Certificate) -> str:
    """The signer a Fulcio-style certificate names: its SAN (URI, email or other name)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    for kind in (x509.UniformResourceIdentifier, x509.RFC822Name, x509.DNSName):
        values = san.get_values_for_type(kind)
        if values:
            return str(values[0])
    others = san.get_values_for_type(x509.OtherName)
    if others:
        raw = others[0].value
        if raw[:1] == b"\x0c" and len(raw) > 2 and raw[1] < 0x80:  # DER UTF8String, short length
            raw = raw[2:]
        return raw.decode("utf-8", "replace")
    return ""
