"""What ran while the deployment was live: each container, judged match / drift / unknown.

A container is judged on the deployment whose sync had started when it started: a pod that
starts running an unknown digest is drift on the deployment live at that moment, and a pod that
outlives it is not judged again on the next one. A digest no recorded deployment explains while
the controller's history has an unseen stretch is an evidence gap (an unseen sync may have made
it), not drift. Unknown (no digest on one side) is not evidenced, never "no drift".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, SATISFIED, UNREADABLE, VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule, stamp
from evidence.compliance.drift import DRIFT, UNKNOWN, ContainerVerdict, judge_container
from evidence.core.times import parse_time
from evidence.readmodels.projectors.deployments import image_digest

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def judged(ctx: Context) -> list[tuple[ContainerVerdict, Any]]:
    """Each container seen in the live interval; one that drifts and started before this sync
    began is left to the deployment live when it started (a pod that outlived a rollout)."""
    d = ctx.d
    by_name: dict[str, set[str]] = {}
    for row in ctx.loaded.containers.get(d.id, []):
        by_name.setdefault(row.container, set()).add(row.digest)
    digests = set(d.image_digests)
    seen: dict[tuple[str, str, str, str], tuple[ContainerVerdict, Any]] = {}
    for snapshot in ctx.running_snapshots():
        for container in snapshot.images:
            verdict = judge_container(container, image_digest(container.get("imageID")), by_name, digests)
            started = parse_time(verdict.started_at, lenient=True)
            if verdict.state == DRIFT and started is not None and started < d.started_at:
                continue  # running before this sync began: judged on the deployment live then
            key = (verdict.pod, verdict.container, verdict.type, verdict.digest)
            seen.setdefault(key, (verdict, snapshot))
    return list(seen.values())


def _in_gap(ctx: Context, verdict: ContainerVerdict, snapshot: Any) -> bool:
    when = parse_time(verdict.started_at, lenient=True) or snapshot.observed_at
    for gap in ctx.loaded.gaps.get((ctx.d.environment, ctx.d.application), []):
        if (gap.after is None or gap.after <= when) and (gap.before is None or when <= gap.before):
            return True
    return False


def check(ctx: Context, case: Case) -> None:
    d = ctx.d
    if d.finished_at is None or ctx.custody.attempt:
        return
    subject = f"{d.environment}/{d.application}"
    snaps = ctx.running_snapshots()
    if not snaps:
        text = "No pods were observed while this deployment was live, so what ran is not evidenced."
        ctx.add(Link("running", NOT_EVIDENCED, text, subject=subject, reason=NOT_LOOKED))
        return
    verdicts = judged(ctx)
    drift = [(v, s) for v, s in verdicts if v.state == DRIFT and not _in_gap(ctx, v, s)]
    gapped = [(v, s) for v, s in verdicts if v.state == DRIFT and _in_gap(ctx, v, s)]
    unknown = [(v, s) for v, s in verdicts if v.state == UNKNOWN]
    if drift:
        v, s = drift[0]
        where = ", ".join(sorted({f"{x.pod}/{x.container} ({x.type}) {x.digest[:19]}" for x, _ in drift}))
        text = f"Pods ran what this deployment did not deploy: {where}; first seen {stamp(s.observed_at)} ({v.reason})."
        seqs = sorted({s.entry_seq for _, s in drift} | set(d.entry_seqs))
        ctx.add(Link("running", VIOLATED, text, seqs, subject=subject, codes=["drift"]))
        return
    if gapped:
        where = ", ".join(sorted({f"{x.pod}/{x.container} {x.digest[:19]}" for x, _ in gapped}))
        text = (
            f"Pods ran {where}, which no recorded deployment produced, while the controller's history rolled over "
            "unseen: an unseen sync may have deployed it, so whether this is drift is not evidenced."
        )
        seqs = sorted({s.entry_seq for _, s in gapped})
        ctx.add(Link("running", NOT_EVIDENCED, text, seqs, subject=subject, reason=NOT_LOOKED))
        return
    if unknown:
        v, s = unknown[0]
        where = ", ".join(sorted({f"{x.pod}/{x.container}" for x, _ in unknown}))
        text = f"Whether pods ran the deployed digests is unknown for {where}: {v.reason}."
        reason = UNREADABLE if not v.digest else NOT_LOOKED
        ctx.add(
            Link(
                "running",
                NOT_EVIDENCED,
                text,
                sorted({s.entry_seq for _, s in unknown}),
                subject=subject,
                reason=reason,
            )
        )
        return
    sidecars = sum(1 for v, _ in verdicts if v.reason.startswith("a sidecar"))
    extra = f", {sidecars} declared sidecar(s)" if sidecars else ""
    text = f"Each container ran the digest deployed for it ({len(snaps)} observation(s){extra})."
    ctx.add(Link("running", SATISFIED, text, [s.entry_seq for s in snaps], subject=subject))


RULE = Rule(
    name="running",
    scope="after",
    reads=("kubernetes.pods", "deployment containers", "later deployments of the application", "deploy.gap"),
    codes=("drift", "evidence_gap"),
    explanation="Each container pods ran while the deployment was live ran the digest deployed for it.",
    check=check,
)
