"""The verdicts a signature or attestation can get. Anything but VERIFIED is not trusted."""

from __future__ import annotations

from dataclasses import dataclass

VERIFIED = "verified"  # by a trusted key or identity, over this digest
UNTRUSTED_SIGNER = "untrusted_signer"  # a signature, but by no trusted key or identity
INVALID_SIGNATURE = "invalid_signature"  # does not verify, or the material is malformed or altered
DIGEST_MISMATCH = "digest_mismatch"  # a good signature over ANOTHER digest (copied from another image)
NO_SIGNATURE = "no_signature"  # looked (tags and referrers) and found none
FETCH_FAILED = "fetch_failed"  # could not read what was needed; the reason says why

VERDICTS = (VERIFIED, UNTRUSTED_SIGNER, INVALID_SIGNATURE, DIGEST_MISMATCH, NO_SIGNATURE, FETCH_FAILED)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str = ""
    signer: str = ""  # who verified (trusted key/identity label), or who signed when untrusted, if known

    def as_data(self) -> dict[str, str]:
        return {"verdict": self.verdict, "reason": self.reason, "signer": self.signer}
