"""Which policy version the deployment is judged by: the one in force when it happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import SATISFIED, Link
from evidence.compliance.custody.rules.base import Case, Rule

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    d, policy = ctx.d, ctx.policy
    subject = f"policy:{d.environment}"
    if policy.entry_seq is not None:
        text = (
            f"Judged by {d.environment} policy version {policy.version}, proposed and approved by two engineers, "
            "in force at the deployment."
        )
        seqs = [s for s in (policy.entry_seq, policy.approval_seq) if s is not None]
        ctx.add(Link("policy", SATISFIED, text, seqs, subject=subject))
        return
    text = (
        f"No policy was recorded for {d.environment} by then; judged by the baseline (one approval by someone "
        "other than the author, signed images, verified provenance, protection on)."
    )
    ctx.add(Link("policy", SATISFIED, text, subject=subject))


RULE = Rule(
    name="policy",
    scope="deployment",
    reads=("policy.version.proposed", "policy.version.approved"),
    codes=(),
    explanation="Names the policy version in force at the deployment, or the baseline.",
    check=check,
)
