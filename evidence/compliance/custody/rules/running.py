"""What ran while the deployment was the latest: the pods ran its digests and nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, SATISFIED, VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule, stamp

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    d = ctx.d
    if d.finished_at is None or ctx.custody.attempt:
        return
    snaps = ctx.running_snapshots()
    subject = f"{d.environment}/{d.application}"
    if not snaps:
        text = "No pods were observed while this deployment was the latest, so what ran is not evidenced."
        ctx.add(Link("running", NOT_EVIDENCED, text, subject=subject, reason=NOT_LOOKED))
        return
    deployed = set(d.image_digests) or set(ctx.pod_digests())  # named by the controller, else first seen running
    strays = [s for s in snaps if deployed and set(s.digests) - deployed]
    if strays:
        extra = sorted({x for s in strays for x in s.digests} - deployed)
        text = (
            f"Pods ran {', '.join(x[:19] for x in extra)} at {stamp(strays[0].observed_at)}, which no recorded "
            "deployment produced here."
        )
        seqs = [s.entry_seq for s in strays] + list(d.entry_seqs)
        ctx.add(Link("running", VIOLATED, text, seqs, subject=subject, codes=["drift"]))
        return
    text = f"Pods ran the deployed digests ({len(snaps)} observation(s))."
    ctx.add(Link("running", SATISFIED, text, [s.entry_seq for s in snaps], subject=subject))


RULE = Rule(
    name="running",
    scope="after",
    reads=("kubernetes.pods", "later deployments of the application"),
    codes=("drift", "evidence_gap"),
    explanation="Pods observed while the deployment was the latest ran only its digests.",
    check=check,
)
