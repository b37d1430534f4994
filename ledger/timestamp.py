"""RFC 3161 timestamps over signed checkpoint notes: asking a TSA, and checking a token offline.

The message imprint is SHA-256 over the note's exact UTF-8 bytes (body and signature lines), so a
token proves the signed checkpoint existed by the TSA's time. Standalone: standard library,
`asn1crypto` and `cryptography` only; audit packs embed it beside merkle.py and note.py.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms, pem, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

TIME_STAMPING = "time_stamping"  # asn1crypto's name for id-kp-timeStamping
_HASHES: dict[str, Any] = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class TimestampError(ValueError):
    """No token (the TSA refused or could not be reached), or a token that does not verify."""


@dataclass(frozen=True)
class Stamp:
    """What a verified token says: when, and which TSA certificate signed it."""

    gen_time: datetime
    tsa: str
    certificate_sha256: str


def note_digest(note: str) -> bytes:
    return hashlib.sha256(note.encode("utf-8")).digest()


def request_token(url: str, note: str, timeout: float) -> bytes:
    """POST a TimeStampReq for the note to the TSA; return the token (DER ContentInfo), checked against the note."""
    if not url.startswith(("http://", "https://")):
        raise TimestampError(f"TSA URL {url!r} is not http(s)")
    nonce = secrets.randbits(63)
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": note_digest(note)},
            "nonce": nonce,
            "cert_req": True,  # the token carries the TSA certificate, so a pack verifies with no other file
        }
    ).dump()
    request = urllib.request.Request(  # noqa: S310 (http(s) only, checked above)
        url, data=query, method="POST", headers={"Content-Type": "application/timestamp-query"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (http(s) only)
            body = answer.read()
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"TSA {url} unreachable: {getattr(exc, 'reason', exc)}") from None
    try:
        response = tsp.TimeStampResp.load(body)
        status = response["status"]["status"].native
        token = response["time_stamp_token"]
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"TSA {url} sent no RFC 3161 response: {exc}") from None
    if status not in ("granted", "granted_with_mods") or not token:
        raise TimestampError(f"TSA {url} refused the request (status {status})")
    der: bytes = token.dump()
    info = _tst_info(der)
    if info["nonce"].native != nonce:
        raise TimestampError(f"TSA {url} answered another request (nonce mismatch)")
    verify_token(der, note)
    return der


def verify_token(token: bytes, note: str, tsa_cert: bytes | None = None) -> Stamp:
    """The token's imprint is the note's hash and its signature verifies with the TSA certificate.

    tsa_cert (PEM or DER): the certificate the token must be signed by; None: the one it embeds
    (which proves the token is whole, not who the TSA is: compare the fingerprint reported).
    """
    info = _tst_info(token)
    imprint = info["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm != "sha256" or imprint["hashed_message"].native != note_digest(note):
        raise TimestampError("its message imprint is not the SHA-256 of this checkpoint note")
    signed = _signed_data(token)
    signer_info = signed["signer_infos"][0]
    cert = _load_cert(tsa_cert) if tsa_cert is not None else _embedded_cert(signed, signer_info)
    _check_signature(signed, signer_info, cert)
    usages = cert.extended_key_usage_value
    if usages is None or TIME_STAMPING not in usages.native:
        raise TimestampError("the signing certificate is not a timestamping certificate (no id-kp-timeStamping)")
    return Stamp(info["gen_time"].native, cert.subject.human_friendly, hashlib.sha256(cert.dump()).hexdigest())


def _signed_data(token: bytes) -> cms.SignedData:
    try:
        content = cms.ContentInfo.load(token)
        if content["content_type"].native != "signed_data":
            raise TimestampError("not a CMS SignedData token")
        signed: cms.SignedData = content["content"]
        if signed["encap_content_info"]["content_type"].native != "tst_info" or len(signed["signer_infos"]) != 1:
            raise TimestampError("not an RFC 3161 token (no TSTInfo, or not one signer)")
        return signed
    except TimestampError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"unreadable token: {exc}") from None


def _tst_info(token: bytes) -> tsp.TSTInfo:
    signed = _signed_data(token)
    try:
        info: tsp.TSTInfo = signed["encap_content_info"]["content"].parsed
        info.native  # noqa: B018 (parse every field now, so a bad one fails here and not later)
        return info
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"unreadable TSTInfo: {exc}") from None


def _load_cert(data: bytes) -> asn1_x509.Certificate:
    try:
        der = pem.unarmor(data)[2] if pem.detect(data) else data
        cert = asn1_x509.Certificate.load(der)
        cert.native  # noqa: B018
        return cert
    except (ValueError, TypeError) as exc:
        raise TimestampError(f"the TSA certificate is unreadable: {exc}") from None


def _embedded_cert(signed: cms.SignedData, signer_info: cms.SignerInfo) -> asn1_x509.Certificate:
    sid = signer_info["sid"]
    for choice in signed["certificates"] or []:
        cert = choice.chosen
        if not isinstance(cert, asn1_x509.Certificate):
            continue
        if sid.name == "issuer_and_serial_number":
            match = sid.chosen["issuer"] == cert.issuer and sid.chosen["serial_number"].native == cert.serial_number
        else:
            match = sid.chosen.native == cert.key_identifier
        if match:
            return cert
    raise TimestampError("the token does not carry its signer's certificate (pass the TSA certificate)")


def _check_signature(signed: cms.SignedData, signer_info: cms.SignerInfo, cert: asn1_x509.Certificate) -> None:
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise TimestampError(f"unsupported digest {digest_name}")
    content = signed["encap_content_info"]["content"].contents
    attrs = signer_info["signed_attrs"]
    if not attrs:
        raise TimestampError("the token has no signed attributes")
    by_type = {attr["type"].native: attr["values"][0].native for attr in attrs}
    if by_type.get("message_digest") != hashlib.new(digest_name, content).digest():
        raise TimestampError("its signed message digest does not match its TSTInfo (the token was altered)")
    signed_bytes = b"\x31" + attrs.dump()[1:]  # signed over as a SET OF, not the [0] IMPLICIT it is stored as
    signature = signer_info["signature"].native
    algorithm = _HASHES[digest_name]()
    key = x509.load_der_x509_certificate(cert.dump()).public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            scheme = signer_info["signature_algorithm"].signature_algo
            pad: padding.AsymmetricPadding = (
                padding.PSS(padding.MGF1(algorithm), padding.PSS.AUTO) if scheme == "rsassa_pss" else padding.PKCS1v15()
            )
            key.verify(signature, signed_bytes, pad, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed_bytes, ec.ECDSA(algorithm))
        else:
            raise TimestampError(f"unsupported TSA key type {type(key).__name__}")
    except InvalidSignature:
        raise TimestampError(
            f"its signature does not verify with the certificate of {cert.subject.human_friendly}"
        ) from None
