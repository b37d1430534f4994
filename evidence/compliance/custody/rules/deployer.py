"""Segregation of duties at the deployment: whoever synced by hand did not author what shipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import SATISFIED, VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule, person

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    d = ctx.d
    if d.automated is not False or not d.initiated_by:
        return  # synced by the controller, or nobody named: no person deployed
    me = person(d.initiated_by)
    own, seqs = [], list(d.entry_seqs)
    for traced in ctx.cases:
        if traced.pull is not None and person(traced.pull.author) & me:
            own.append(str(traced.pull))
            seqs.append(traced.pull.entry_seq)
            continue
        landing = ctx.loaded.ancestry.landing(traced.sha) if traced.pull is None else None
        if landing is not None and person(landing.row.author) & me:
            own.append(f"commit {traced.sha[:12]}")
            seqs.append(landing.row.entry_seq)
    own = list(dict.fromkeys(own))
    if own:
        text = (
            f"{d.initiated_by} synced {d.application} by hand and is the author of what it shipped "
            f"({', '.join(own)}): the same person wrote and deployed the change."
        )
        ctx.add(Link("deployer", VIOLATED, text, seqs, subject=d.subject, codes=["author_deployed_own_change"]))
    elif ctx.cases:
        text = f"{d.initiated_by} synced by hand; they authored none of the changes traced."
        ctx.add(Link("deployer", SATISFIED, text, seqs, subject=d.subject))


RULE = Rule(
    name="deployer",
    scope="after",
    reads=("deployment initiator", "pull request authors", "first-parent history (direct pushes)"),
    codes=("author_deployed_own_change",),
    explanation="A person who synced by hand did not author the changes shipped (segregation of duties).",
    check=check,
)
