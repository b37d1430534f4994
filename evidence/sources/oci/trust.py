"""Who is trusted to sign: PEM public keys (ECDSA P-256, Ed25519) and keyless identities."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class TrustConfigError(ValueError):
    """trusted_keys / trusted_identities / trusted_root cannot be used; the message says which."""


@dataclass(frozen=True)
class TrustedKey:
    name: str  # the file's stem, as operators name their keys
    fingerprint: str  # sha256:<hex> of the DER SubjectPublicKeyInfo
    algorithm: str  # ecdsa-p256 | ed25519
    public_key: PublicKey

    @property
    def label(self) -> str:
        return f"key:{self.name} ({self.fingerprint[:19]})"


@dataclass(frozen=True)
class IdentityRule:
    """A keyless signer: the certificate's OIDC issuer (exact) and SAN (glob, or full-match regex)."""

    issuer: str
    subject: str = ""
    subject_regex: str = ""

    def matches(self, issuer: str | None, subject: str | None) -> bool:
        if issuer != self.issuer or not subject:
            return False
        if self.subject_regex:
            return re.fullmatch(self.subject_regex, subject) is not None
        return fnmatch.fnmatchcase(subject, self.subject)

    @property
    def label(self) -> str:
        return f"identity:{self.subject or self.subject_regex} from {self.issuer}"


@dataclass(frozen=True)
class TrustPolicy:
    keys: tuple[TrustedKey, ...] = ()
    identities: tuple[IdentityRule, ...] = ()
    trusted_root: str = ""  # path of a Sigstore trusted_root.json the operator provides

    def describe(self) -> dict[str, Any]:
        """What was trusted when a verdict was given, for the entry."""
        return {
            "keys": [{"name": k.name, "fingerprint": k.fingerprint, "algorithm": k.algorithm} for k in self.keys],
            "identities": [
                {"issuer": i.issuer, "subject": i.subject, "subject_regex": i.subject_regex} for i in self.identities
            ],
            "trusted_root_sha256": _file_sha256(self.trusted_root) if self.trusted_root else None,
        }

    def identity_for(self, issuer: str | None, subject: str | None) -> IdentityRule | None:
        return next((rule for rule in self.identities if rule.matches(issuer, subject)), None)


def public_key_fingerprint(key: PublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def load_public_key(pem: bytes, where: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise TrustConfigError(f"{where}: not a PEM public key") from None
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise TrustConfigError(f"{where}: only ECDSA P-256 and Ed25519 keys are supported")


def load_trusted_key(path: str | Path) -> TrustedKey:
    path = Path(path)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise TrustConfigError(f"trusted_keys: cannot read {path}: {exc.strerror}") from None
    key = load_public_key(pem, f"trusted_keys: {path}")
    algorithm = "ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "ecdsa-p256"
    return TrustedKey(path.stem, public_key_fingerprint(key), algorithm, key)


def load_policy(keys: Any, identities: Any, trusted_root: Any = "") -> TrustPolicy:
    """Build a policy from a source's config values, failing loudly on a bad entry."""
    if keys is None:
        keys = []
    if not isinstance(keys, list):
        raise TrustConfigError("trusted_keys: expected a list of PEM file paths")
    rules = []
    for i, item in enumerate(identities or []):
        if not isinstance(item, dict) or not isinstance(item.get("issuer"), str):
            raise TrustConfigError(f"trusted_identities[{i}]: expected issuer and subject (or subject_regex)")
        subject, regex = item.get("subject", ""), item.get("subject_regex", "")
        if not subject and not regex:
            raise TrustConfigError(f"trusted_identities[{i}]: subject or subject_regex is required")
        if regex:
            try:
                re.compile(regex)
            except re.error as exc:
                raise TrustConfigError(f"trusted_identities[{i}]: subject_regex: {exc}") from None
        rules.append(IdentityRule(item["issuer"], subject, regex))
    if trusted_root and not Path(trusted_root).is_file():
        raise TrustConfigError(f"trusted_root: {trusted_root} is not a readable file")
    return TrustPolicy(tuple(load_trusted_key(p) for p in keys), tuple(rules), str(trusted_root or ""))


def verify_with_key(key: PublicKey, signature: bytes, message: bytes) -> bool:
    """cosign's keyed scheme: ECDSA P-256 over SHA-256 (ASN.1 DER signature), or pure Ed25519."""
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _file_sha256(path: str) -> str | None:
    try:
        return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
