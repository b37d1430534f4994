"""The image's provenance: a verified statement naming the builder, repository and commit.

A statement first recorded after the deployment started cannot vouch for it ("recorded late");
its faults (statements naming different commits, an untrusted builder) count whenever recorded,
and the commit it names is still traced, so a mismatch with the deployed revision is caught.
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
    rows = ctx.loaded.provenance.get(digest, [])
    seqs = [r.entry_seq for r in rows]
    verified = [r for r in rows if r.verdict == "verified"]
    in_time = [r for r in verified if r.observed_at <= ctx.started]
    if verified:
        basis = in_time or verified
        chosen = basis[-1]
        commits = sorted({r.source_commit.lower() for r in basis if r.source_commit})
        codes, problems = [], []
        if len(commits) > 1:
            codes.append("provenance_commit_mismatch")
            problems.append(f"statements name different commits ({', '.join(c[:12] for c in commits)})")
        if not trusted(chosen.builder_id, ctx.policy.trusted_builders):
            codes.append("builder_untrusted")
            problems.append(f"builder {chosen.builder_id or '(unnamed)'} is not trusted by the policy")
        text = (
            f"Built by {chosen.builder_id or '(unnamed builder)'} from {chosen.source_repo or '(unnamed repository)'}"
        )
        text += f" at {chosen.source_commit[:12] or '(no commit)'}"
        if codes:
            status, reason, text = VIOLATED, "", text + ": " + "; ".join(problems) + "."
        elif in_time:
            status, reason, text = SATISFIED, "", text + f", recorded {stamp(in_time[0].observed_at)}."
        else:
            first = min(verified, key=lambda r: (r.observed_at, r.entry_seq))
            status, reason = NOT_EVIDENCED, RECORDED_LATE
            text += (
                f", but the statement was first recorded {stamp(first.observed_at)}, after the deployment started "
                f"({stamp(ctx.started)}); it cannot vouch for what was deployed."
            )
        link = Link("provenance", status, text, seqs, subject=digest, codes=codes, reason=reason)
        link.repository = chosen.source_repo
        ctx.add(link)
        case.provenance = chosen
        case.sha = commits[0] if len(commits) == 1 else chosen.source_commit.lower()
        return
    seen = registry_seen(ctx.loaded, digest)
    untraced = "so which commit and builder produced the image, and through which pull request, is not"
    if not ctx.policy.require_provenance:
        text = "No verified provenance is recorded; the policy in force does not require it (the image is not traced)."
        ctx.add(Link("provenance", SATISFIED, text, seqs, subject=digest))
    elif seen is None:
        text = f"No registry harvest ever looked at this digest, {untraced} evidenced."
        ctx.add(Link("provenance", NOT_EVIDENCED, text, seqs, subject=digest, reason=NOT_LOOKED))
    elif rows and all(r.verdict == "fetch_failed" for r in rows):
        text = f"The registry could not be read for provenance, {untraced} evidenced."
        ctx.add(Link("provenance", NOT_EVIDENCED, text, seqs, subject=digest, reason=UNREADABLE))
    else:
        why = "No provenance statement was recorded" if not rows else "No provenance statement verifies"
        text = f"{why} for this digest (registry read {stamp(seen[1])}), {untraced} proven."
        cited = seqs or [seen[0]]
        ctx.add(Link("provenance", VIOLATED, text, cited, subject=digest, codes=["no_provenance"]))


RULE = Rule(
    name="provenance",
    scope="image",
    reads=("oci.provenance", "oci.artifact (registry coverage)", "policy: require_provenance, trusted_builders"),
    codes=(
        "provenance_commit_mismatch",
        "builder_untrusted",
        "no_provenance",
        "evidence_gap",
        "evidence_recorded_late",
    ),
    explanation="The image has verified provenance by a trusted builder, recorded before the deployment; its "
    "source commit is what the image path traces.",
    check=check,
)
