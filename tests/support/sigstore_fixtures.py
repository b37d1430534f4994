"""A Sigstore instance the tests make themselves: Fulcio-like CA, CT log, Rekor-like log, bundles.

Everything is generated here with `cryptography` so keyless verification is tested offline through the
real `sigstore` Verifier, with no third-party trust material or bundles in the repository:
- a root CA and an intermediate (the trusted root's certificateAuthorities chain);
- a CT log key that signs an RFC 6962 precertificate SCT embedded in each leaf (sigstore verifies it);
- a transparency log key that signs the checkpoint over a small RFC 6962 Merkle tree holding the entry
  (inclusion proof) and the entry's signed entry timestamp (inclusion promise, the source of signing time);
- short-lived leaf certificates naming an identity (SAN) and OIDC issuer (Fulcio extensions), used to sign
  DSSE envelopes (in-toto statements) and message signatures, packed as bundle v0.3 with Rekor v1 entries.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW = "https://github.com/acme/payments/.github/workflows/release.yml@refs/heads/main"
RELEASER = {"issuer": GITHUB_ISSUER, "subject": "https://github.com/acme/payments/*"}
COMMIT = "5f0c6e1d2b3a49587766554433221100ffeeddcc"
DSSE_TYPE = "application/vnd.in-toto+json"
BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"

_OIDC_ISSUER = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # Fulcio v1: the issuer as raw bytes
_OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # Fulcio v2: a DER UTF8String
_SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_id(key: ec.EllipticCurvePrivateKey) -> bytes:
    """RFC 6962 log id / key id: SHA-256 of the DER SubjectPublicKeyInfo."""
    return hashlib.sha256(_spki(key)).digest()


def _der_octets(data: bytes) -> bytes:
    """DER OCTET STRING (the SCT list extension wraps its TLS encoding in one)."""
    n = len(data)
    length = (
        bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8)
    )
    return b"\x04" + length + data


def _utf8string(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 0x80, "short-form DER length only"
    return b"\x0c" + bytes([len(raw)]) + raw


# RFC 6962 section 2.1: Merkle tree hash and audit path, leaf level first as Rekor serves it.
def _leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def audit_path(index: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*audit_path(index, leaves[:k]), merkle_root(leaves[k:])]
    return [*audit_path(index - k, leaves[k:]), merkle_root(leaves[:k])]


def provenance_statement(digest: str, name: str = "registry.test/acme/payments") -> dict[str, Any]:
    """An in-toto v1 statement carrying SLSA v1 provenance from a GitHub Actions build, about digest."""
    algorithm, hex_digest = digest.split(":", 1)
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {algorithm: hex_digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": "refs/heads/main",
                        "repository": "https://github.com/acme/payments",
                        "path": ".github/workflows/release.yml",
                    }
                },
                "resolvedDependencies": [
                    {"uri": "git+https://github.com/acme/payments@refs/heads/main", "digest": {"gitCommit": COMMIT}}
                ],
            },
            "runDetails": {
                "builder": {"id": WORKFLOW},
                "metadata": {"invocationId": "https://github.com/acme/payments/actions/runs/4242/attempts/1"},
            },
        },
    }


@dataclass
class Signer:
    """A leaf certificate and its key, as Fulcio would issue for one OIDC identity."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def pem_b64(self) -> str:
        return _b64(self.certificate.public_bytes(serialization.Encoding.PEM))


@dataclass
class SigstoreInstance:
    """A self-made Fulcio CA, CT log and transparency log; `trusted_root()` is what an operator would hold."""

    name: str = "test"
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __post_init__(self) -> None:
        self.start = self.now - timedelta(days=1)
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.intermediate_key = ec.generate_private_key(ec.SECP384R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.log_key = ec.generate_private_key(ec.SECP256R1())
        self.log_origin = f"rekor.{self.name}.invalid - 1193050959916656506"
        self.log_size = 0
        self.root_cert = self._ca_cert(f"{self.name}-fulcio-root", self.root_key, None)
        self.intermediate_cert = self._ca_cert(
            f"{self.name}-fulcio-intermediate", self.intermediate_key, self.root_cert
        )

    def _ca_cert(self, cn: str, key: ec.EllipticCurvePrivateKey, parent: x509.Certificate | None) -> x509.Certificate:
        subject = x509.Name(
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.name), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        )
        signing_key = self.root_key if parent is not None else key
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(parent.subject if parent is not None else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.start)
            .not_valid_after(self.now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None else 0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # keyCertSign, cRLSign
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if parent is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        return builder.sign(signing_key, hashes.SHA384())

    # Reference: https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_trustroot.proto
    def trusted_root(
        self, log_key: ec.EllipticCurvePrivateKey | None = None, ct_key: ec.EllipticCurvePrivateKey | None = None
    ) -> dict[str, Any]:
        """log_key / ct_key replace this instance's keys, to play a root that trusts other logs."""
        valid_for = {"start": self.start.isoformat().replace("+00:00", "Z")}

        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, Any]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(_spki(key)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": valid_for,
                },
                "logId": {"keyId": _b64(_key_id(key))},
            }

        der = [_b64(c.public_bytes(serialization.Encoding.DER)) for c in (self.intermediate_cert, self.root_cert)]
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(log_key or self.log_key, f"https://rekor.{self.name}.invalid")],
            "certificateAuthorities": [
                {
                    "subject": {"organization": self.name, "commonName": f"{self.name}-fulcio"},
                    "uri": f"https://fulcio.{self.name}.invalid",
                    "certChain": {"certificates": [{"rawBytes": d} for d in der]},
                    "validFor": valid_for,
                }
            ],
            "ctlogs": [log(ct_key or self.ct_key, f"https://ctfe.{self.name}.invalid/test")],
            "timestampAuthorities": [],
        }

    def write_trusted_root(self, path: Path, **keys: ec.EllipticCurvePrivateKey) -> Path:
        path.write_text(json.dumps(self.trusted_root(**keys), indent=2))
        return path

    def issue(self, san: x509.GeneralName, issuer: str, at: datetime) -> Signer:
        """A 10-minute leaf for one identity, with an embedded SCT from this instance's CT log."""
        key = ec.generate_private_key(ec.SECP256R1())
        serial = x509.random_serial_number()

        def build(extra: list[x509.ExtensionType]) -> x509.CertificateBuilder:
            builder = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([]))
                .issuer_name(self.intermediate_cert.subject)
                .public_key(key.public_key())
                .serial_number(serial)
                .not_valid_before(at - timedelta(seconds=30))
                .not_valid_after(at + timedelta(minutes=10))
                .add_extension(
                    x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
                )
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate_key.public_key()),
                    critical=False,
                )
                .add_extension(x509.SubjectAlternativeName([san]), critical=True)
                .add_extension(x509.UnrecognizedExtension(_OIDC_ISSUER, issuer.encode()), critical=False)
                .add_extension(x509.UnrecognizedExtension(_OIDC_ISSUER_V2, _utf8string(issuer)), critical=False)
            )
            for ext in extra:
                builder = builder.add_extension(ext, critical=False)
            return builder

        # RFC 6962 3.2: the SCT signs the TBSCertificate without the SCT list, bound to the issuer's key.
        tbs = build([]).sign(self.intermediate_key, hashes.SHA384()).tbs_certificate_bytes
        timestamp = int(at.timestamp() * 1000)
        signed_entry = _key_id(self.intermediate_key) + len(tbs).to_bytes(3) + tbs
        digitally_signed = struct.pack("!BBQH", 0, 0, timestamp, 1) + signed_entry + b"\x00\x00"
        signature = self.ct_key.sign(digitally_signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            b"\x00"
            + _key_id(self.ct_key)
            + struct.pack("!QH", timestamp, 0)
            + b"\x04\x03"  # sha256, ecdsa
            + struct.pack("!H", len(signature))
            + signature
        )
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        cert = build([x509.UnrecognizedExtension(_SCT_LIST, _der_octets(sct_list))]).sign(
            self.intermediate_key, hashes.SHA384()
        )
        assert cert.tbs_precertificate_bytes == tbs
        return Signer(key, cert)

    # Reference: https://github.com/sigstore/rekor/blob/main/pkg/types/dsse/v0.0.1/dsse_v0_0_1_schema.json
    def dsse_bundle(
        self,
        statement: dict[str, Any],
        identity: str = WORKFLOW,
        issuer: str = GITHUB_ISSUER,
    ) -> bytes:
        """A bundle v0.3 with a DSSE envelope over statement, logged as a Rekor v1 dsse entry."""
        at = self.now - timedelta(minutes=5)
        signer = self.issue(x509.UniformResourceIdentifier(identity), issuer, at)
        payload = json.dumps(statement).encode()
        pae = b"DSSEv1 %d %s %d %s" % (len(DSSE_TYPE), DSSE_TYPE.encode(), len(payload), payload)
        signature = signer.key.sign(pae, ec.ECDSA(hashes.SHA256()))
        envelope = {"payload": _b64(payload), "payloadType": DSSE_TYPE, "signatures": [{"sig": _b64(signature)}]}
        body = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(rfc8785.dumps(envelope)).hexdigest()},
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                "signatures": [{"signature": _b64(signature), "verifier": signer.pem_b64}],
            },
        }
        return self._bundle(signer, body, at, {"dsseEnvelope": envelope})

    # Reference: https://github.com/sigstore/rekor/blob/main/pkg/types/hashedrekord/v0.0.1/hashedrekord_v0_0_1_schema.json
    def message_bundle(
        self, artifact: bytes, identity: str = "release@acme.test", issuer: str = GITHUB_ISSUER
    ) -> bytes:
        """A bundle v0.3 with a message signature over sha256(artifact), logged as a hashedrekord entry."""
        at = self.now - timedelta(minutes=5)
        signer = self.issue(x509.RFC822Name(identity), issuer, at)
        digest = hashlib.sha256(artifact).digest()
        signature = signer.key.sign(artifact, ec.ECDSA(hashes.SHA256()))
        body = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                "signature": {"content": _b64(signature), "publicKey": {"content": signer.pem_b64}},
            },
        }
        content = {
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": _b64(digest)},
                "signature": _b64(signature),
            }
        }
        return self._bundle(signer, body, at, content)

    # Reference: https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_rekor.proto
    def _bundle(self, signer: Signer, body: dict[str, Any], at: datetime, content: dict[str, Any]) -> bytes:
        canonical = rfc8785.dumps(body)
        # Other entries before and after ours, so the inclusion proof has real siblings to hash.
        index = self.log_size + 5
        leaves = [_leaf_hash(b"entry %d" % i) for i in range(index)] + [_leaf_hash(canonical)]
        leaves += [_leaf_hash(b"entry %d" % i) for i in range(index + 1, index + 3)]
        self.log_size = len(leaves)
        root = merkle_root(leaves)
        log_id = _key_id(self.log_key)
        note = f"{self.log_origin}\n{len(leaves)}\n{_b64(root)}\n"
        note_sig = self.log_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = f"{note}\n\u2014 rekor.{self.name}.invalid {_b64(log_id[:4] + note_sig)}\n"
        integrated = int(at.timestamp())
        promise = rfc8785.dumps(
            {"body": _b64(canonical), "integratedTime": integrated, "logID": log_id.hex(), "logIndex": index}
        )
        entry = {
            "logIndex": str(index),
            "logId": {"keyId": _b64(log_id)},
            "kindVersion": {"kind": body["kind"], "version": body["apiVersion"]},
            "integratedTime": str(integrated),
            "inclusionPromise": {"signedEntryTimestamp": _b64(self.log_key.sign(promise, ec.ECDSA(hashes.SHA256())))},
            "inclusionProof": {
                "logIndex": str(index),
                "rootHash": _b64(root),
                "treeSize": str(len(leaves)),
                "hashes": [_b64(h) for h in audit_path(index, leaves)],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": _b64(canonical),
        }
        bundle = {
            "mediaType": BUNDLE_V03,
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(signer.certificate.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [entry],
            },
            **content,
        }
        return json.dumps(bundle, indent=2).encode()
