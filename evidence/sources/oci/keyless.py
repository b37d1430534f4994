"""Keyless (Sigstore bundle) verification through the `sigstore` package, offline.

What `sigstore` (v4) checks here, with no network, against the trusted_root.json the operator
provides: the Fulcio certificate chain at the signing time, the embedded SCT, the transparency-log
entry (inclusion proof against a signed checkpoint, or the signed entry timestamp), RFC 3161
timestamps if present, the signature over the DSSE envelope or message digest, and that the log
entry matches the signed content. What it does NOT do offline: fetch a newer trusted root (TUF),
check revocation, or look the entry up in a live log. Identity (SAN + OIDC issuer) is matched here
against `trusted_identities`, after the cryptographic checks so a forged bundle is reported as an
invalid signature, not as an untrusted signer.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from evidence.sources.oci.signatures import certificate_identity
from evidence.sources.oci.trust import TrustPolicy
from evidence.sources.oci.verdicts import DIGEST_MISMATCH, INVALID_SIGNATURE, UNTRUSTED_SIGNER, VERIFIED, Verdict

OIDC_ISSUER = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # raw string (Fulcio v1 extension)
OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # DER UTF8String
BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"

logging.getLogger("sigstore").setLevel(logging.ERROR)  # it logs per verification at INFO/WARNING


@dataclass(frozen=True)
class KeylessResult:
    verdict: Verdict
    subject: str = ""  # certificate SAN
    issuer: str = ""  # OIDC issuer
    payload_type: str = ""  # DSSE bundles: the envelope's payload type
    payload: bytes | None = None  # DSSE bundles: the statement, verified or not
    signed_digest: str = ""  # message-signature bundles: sha256:<hex> the signature is over
    log_index: int | None = None
    integrated_time: int | None = None


class _Collect:
    """A sigstore policy that accepts any identity: identity is judged after the crypto checks."""

    def verify(self, cert: x509.Certificate) -> None:
        return None


@functools.lru_cache(maxsize=8)
def _verifier(path: str, mtime: float):  # type: ignore[no-untyped-def]
    from sigstore.models import TrustedRoot
    from sigstore.verify.verifier import Verifier

    return Verifier(trusted_root=TrustedRoot.from_file(path))


def certificate_issuer(cert: x509.Certificate) -> str:
    for oid in (OIDC_ISSUER_V2, OIDC_ISSUER):
        try:
            value = cert.extensions.get_extension_for_oid(oid).value.value  # type: ignore[attr-defined]
        except x509.ExtensionNotFound:
            continue
        if oid == OIDC_ISSUER_V2 and value[:1] == b"\x0c" and len(value) > 2 and value[1] < 0x80:
            value = value[2:]
        return bytes(value).decode("utf-8", "replace")
    return ""


def verify_bundle(raw: bytes, image_digest: str, policy: TrustPolicy) -> KeylessResult:
    """Verify a Sigstore bundle for image_digest. DSSE statements are returned for the caller to
    check subjects; message signatures must be over image_digest itself."""
    import os

    from sigstore.errors import Error as SigstoreError
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, InvalidBundle
    from sigstore_models.common.v1 import HashAlgorithm

    try:
        bundle = Bundle.from_json(raw)
        cert = bundle.signing_certificate
    except (InvalidBundle, ValueError, KeyError, TypeError) as exc:
        return KeylessResult(Verdict(INVALID_SIGNATURE, f"not a usable Sigstore bundle: {exc}"))
    subject, issuer = certificate_identity(cert), certificate_issuer(cert)
    who = f"{subject} from {issuer}"
    entry = bundle.log_entry._inner
    envelope = bundle._dsse_envelope
    payload_type = envelope._inner.payload_type if envelope else ""
    payload = envelope._inner.payload if envelope else None
    signed_digest = ""
    if envelope is None and bundle._inner.message_signature and bundle._inner.message_signature.message_digest:
        signed_digest = "sha256:" + bundle._inner.message_signature.message_digest.digest.hex()
    base = KeylessResult(
        Verdict(INVALID_SIGNATURE),
        subject=subject,
        issuer=issuer,
        payload_type=payload_type,
        payload=payload,
        signed_digest=signed_digest,
        log_index=int(entry.log_index) if entry.log_index is not None else None,
        integrated_time=int(entry.integrated_time) if entry.integrated_time else None,
    )
    if not policy.trusted_root:
        reason = "no trusted_root configured: the bundle's chain and log entry were not verified"
        return replace(base, verdict=Verdict(UNTRUSTED_SIGNER, reason, who))
    try:
        verifier = _verifier(policy.trusted_root, os.path.getmtime(policy.trusted_root))
        if envelope is not None:
            verifier.verify_dsse(bundle, _Collect())
        elif signed_digest:
            hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(signed_digest[7:]))
            verifier.verify_artifact(hashed, bundle, _Collect())
        else:
            return replace(base, verdict=Verdict(INVALID_SIGNATURE, "bundle has no DSSE envelope or message digest"))
    except (SigstoreError, ValueError) as exc:
        return replace(base, verdict=Verdict(INVALID_SIGNATURE, f"Sigstore verification failed: {exc}", who))
    rule = policy.identity_for(issuer, subject)
    if rule is None:
        return replace(base, verdict=Verdict(UNTRUSTED_SIGNER, "identity matches no trusted_identities rule", who))
    if signed_digest and signed_digest != image_digest:
        mismatch = Verdict(DIGEST_MISMATCH, f"bundle signs {signed_digest}, not {image_digest}", rule.label)
        return replace(base, verdict=mismatch)
    return replace(base, verdict=Verdict(VERIFIED, "", rule.label))
