"""The deployment itself: what the controller rolled out, where, when; an attempt says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import SATISFIED, Link
from evidence.compliance.custody.rules.base import Case, Rule, stamp

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    d = ctx.d
    text = f"{d.controller} deployed {d.application} to {d.environment} at {stamp(ctx.at)} ({d.outcome})."
    if ctx.custody.attempt:
        what = "failed" if d.outcome == "failed" else "has not finished"
        text = (
            f"{d.controller} sync of {d.application} in {d.environment} started {stamp(d.started_at)} and {what}: "
            "an attempt, shown here but not judged (what ran stayed the previous deployment)."
        )
    ctx.add(Link("deployment", SATISFIED, text, list(d.entry_seqs), subject=d.subject))


RULE = Rule(
    name="deployment",
    scope="deployment",
    reads=("argocd.* / flux.* deployment entries",),
    codes=(),
    explanation="States the deployment (controller, environment, time, outcome); a failed or unfinished "
    "sync is marked as an attempt.",
    check=check,
)
