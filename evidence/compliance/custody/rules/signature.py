"""The image's signature: verified, by a signer the policy trusts, recorded before the deployment.

Evidence that vouches must predate what it vouches for: a good signature first recorded after the
deployment started is "recorded late" (not evidenced, `evidence_recorded_late`). Evidence of a
fault (an untrusted signer, a signature that does not verify, none where the registry was read)
counts whenever it was recorded. Whether the registry was looked at comes from its coverage (the
digest's oci.* entries), never from the absence of a signature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import (
    NOT_EVIDENCED,
    NOT_LOOKED,
    RECORDED_LATE,
    SATISFIED,
    UNREADABLE,
    VIOLATED,
    Link,
)
from evidence.compliance.custody.rules.base import Case, Rule, registry_seen, stamp, trusted

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    digest = case.digest
    rows = ctx.loaded.signatures.get(digest, [])
    seqs = [r.entry_seq for r in rows]
    required = ctx.policy.require_signature
    patterns = ctx.policy.trusted_signers
    good = [r for r in rows if r.verdict == "verified" and trusted(r.signer, patterns)]
    in_time = [r for r in good if r.observed_at <= ctx.started]
    untrusted = [r for r in rows if r.verdict == "untrusted_signer"]
    untrusted += [r for r in rows if r.verdict == "verified" and r not in good]
    invalid = [r for r in rows if r.verdict in ("invalid_signature", "digest_mismatch")]
    failed = [r for r in rows if r.verdict == "fetch_failed"]
    none = [r for r in rows if r.verdict == "no_signature"]
    seen = registry_seen(ctx.loaded, digest)

    def link(status: str, text: str, codes: list[str] | None = None, reason: str = "") -> None:
        cited = seqs + ([seen[0]] if seen and not seqs else [])
        ctx.add(Link("signature", status, text, cited, subject=digest, codes=codes or [], reason=reason))

    if in_time:
        signers = ", ".join(sorted({r.signer for r in in_time}))
        link(SATISFIED, f"Signature verified, signed by {signers}, recorded {stamp(in_time[0].observed_at)}.")
    elif untrusted:
        signers = ", ".join(sorted({r.signer or "an unnamed signer" for r in untrusted}))
        link(VIOLATED, f"Signed by {signers}, which the policy does not trust.", ["signer_untrusted"])
    elif invalid:
        reasons = "; ".join(sorted({r.reason or r.verdict for r in invalid}))
        link(VIOLATED, f"A signature is attached but does not verify: {reasons}.", ["signature_invalid"])
    elif not required:
        link(SATISFIED, "No verified signature is recorded; the policy in force does not require one.")
    elif good:
        first = min(good, key=lambda r: (r.observed_at, r.entry_seq))
        link(
            NOT_EVIDENCED,
            f"Signed by {first.signer}, but the signature was first recorded {stamp(first.observed_at)}, after the "
            f"deployment started ({stamp(ctx.started)}); it cannot vouch for what was deployed.",
            reason=RECORDED_LATE,
        )
    elif seen is None:
        link(
            NOT_EVIDENCED,
            "No registry harvest ever looked at this digest, so whether it is signed is not evidenced.",
            reason=NOT_LOOKED,
        )
    elif failed and not none:
        link(
            NOT_EVIDENCED,
            "The registry could not be read for signatures, so whether the image is signed is not evidenced.",
            reason=UNREADABLE,
        )
    else:
        link(
            VIOLATED,
            f"The registry was read ({stamp(seen[1])}) and no signature was found for this digest; the policy "
            "requires one.",
            ["image_unsigned"],
        )


RULE = Rule(
    name="signature",
    scope="image",
    reads=("oci.signature", "oci.artifact (registry coverage)", "policy: require_signature, trusted_signers"),
    codes=("signer_untrusted", "signature_invalid", "image_unsigned", "evidence_gap", "evidence_recorded_late"),
    explanation="The image carries a verified signature by a trusted signer, recorded before the deployment.",
    check=check,
)
