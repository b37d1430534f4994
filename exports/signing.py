"""PAdES signing of audit packs with the operator's certificate (pyHanko), and a demo certificate.

Settings (environment): PACK_SIGNING_CERT (PEM certificate, or a PKCS#12 file when
PACK_SIGNING_KEY is empty), PACK_SIGNING_KEY (PEM private key), PACK_SIGNING_KEY_PASSWORD or
PACK_SIGNING_KEY_PASSWORD_FILE, PACK_TSA_URL (RFC 3161 timestamp authority, optional).

The key type decides the PDF version of the signed pack. PDF/A-3 is based on PDF 1.7 (ISO
32000-1), whose signatures are RSA or DSA; pyHanko signs with an ECDSA (or EdDSA) key only after
registering the ISO 32002 extension and raising the catalog to PDF 2.0, and a PDF 2.0 file is
not PDF/A-3b whatever its XMP says. So the operator's certificate should carry an RSA key; the
demo certificate does (RSA 3072) unless ECDSA is asked for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from .errors import PackError

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "AuditPackSignature"
PDF_A_3_VERSION = (1, 7)  # ISO 19005-3 is based on ISO 32000-1
KEY_TYPES = ("rsa", "ecdsa")  # the first is the default: it keeps a signed pack PDF 1.7, so PDF/A-3b
RSA_BITS = 3072  # NIST SP 800-57: 128-bit security, acceptable beyond 2030


@dataclass(frozen=True)
class PackSigner:
    signer: Any  # pyhanko.sign.signers.SimpleSigner (imported lazily: pyHanko is slow to import)
    certificate_sha256: str
    subject: str
    tsa_url: str = ""


def _certificate_facts(signer: Any) -> tuple[str, str]:
    cert = signer.signing_cert
    return hashlib.sha256(cert.dump()).hexdigest(), cert.subject.human_friendly


def load_pack_signer(
    cert_path: str | None = None, key_path: str | None = None, password: str | None = None, tsa_url: str | None = None
) -> PackSigner:
    """The operator's signer from settings (or the given paths); PackError names what is wrong."""
    from pyhanko.sign import signers

    cert_path = cert_path if cert_path is not None else settings.PACK_SIGNING_CERT
    key_path = key_path if key_path is not None else settings.PACK_SIGNING_KEY
    password = password if password is not None else settings.PACK_SIGNING_KEY_PASSWORD
    tsa_url = tsa_url if tsa_url is not None else settings.PACK_TSA_URL
    passphrase = password.encode() if password else None
    for name, path in (("PACK_SIGNING_CERT", cert_path), ("PACK_SIGNING_KEY", key_path)):
        if path and not Path(path).is_file():
            raise PackError(f"{name}: no file at {path}; run `manage.py create_pack_certificate` for a demo one")
    if not cert_path:
        raise PackError("PACK_SIGNING_CERT: not set; run `manage.py create_pack_certificate` for a demo one")
    # pyHanko logs and returns None on a wrong password or a malformed file; we say which file.
    if key_path:
        signer = signers.SimpleSigner.load(key_path, cert_path, key_passphrase=passphrase)
        where = f"PACK_SIGNING_KEY/PACK_SIGNING_CERT ({key_path}, {cert_path})"
    else:
        signer = signers.SimpleSigner.load_pkcs12(cert_path, passphrase=passphrase)
        where = f"PACK_SIGNING_CERT (PKCS#12 {cert_path})"
    if signer is None:
        raise PackError(f"{where}: cannot load the key and certificate (wrong password or not PEM/PKCS#12)")
    fingerprint, subject = _certificate_facts(signer)
    return PackSigner(signer, fingerprint, subject, tsa_url or "")


def sign_pdf(pdf: bytes, pack_signer: PackSigner) -> bytes:
    """One PAdES B-B signature (B-T with a TSA) over the whole file, as an incremental update."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Audit pack from the compliance evidence ledger",
    )
    timestamper = timestamps.HTTPTimeStamper(pack_signer.tsa_url) if pack_signer.tsa_url else None
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=pack_signer.signer, timestamper=timestamper).sign_pdf(writer, output=out)
    if writer.output_version > PDF_A_3_VERSION:  # an ECDSA or EdDSA key: see the module docstring
        version = ".".join(map(str, writer.output_version))
        logger.warning(
            "audit pack: signing with %s's key made the pack PDF %s, so it is not PDF/A-3b; use an RSA certificate",
            pack_signer.subject,
            version,
        )
    return out.getvalue()


def create_demo_certificate(
    cert_path: Path,
    key_path: Path | None,
    common_name: str,
    password: str = "",
    days: int = 365,
    key_type: str = KEY_TYPES[0],
) -> str:
    """A self-signed signing certificate; key_path None writes a PKCS#12 file at cert_path.

    key_type "rsa" (RSA 3072) keeps signed packs PDF 1.7 and so PDF/A-3b; "ecdsa" (P-256) makes
    them PDF 2.0 (see the module docstring). Returns the certificate's SHA-256 fingerprint (DER),
    for the operator to publish.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    if key_type not in KEY_TYPES:
        raise PackError(f"key type: {key_type!r} is not one of {', '.join(KEY_TYPES)}")
    # pdfsig (NSS), pyHanko and Acrobat accept both; RSA 3072 takes a fraction of a second to make.
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        if key_type == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo")]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    if key_path is None:
        blob = pkcs12.serialize_key_and_certificates(common_name.encode(), key, cert, None, encryption)
        _write_private(cert_path, blob)
    else:
        key_path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(
            key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
