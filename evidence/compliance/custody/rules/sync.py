"""How the deployment was synced: by the controller following Git, or by a person by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import SATISFIED, VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    d = ctx.d
    if d.automated is False:
        text = (
            f"Synced by hand by {d.initiated_by or 'someone'}, not by the controller following Git on its own; the "
            "reviewed revision alone did not decide what ran."
        )
        ctx.add(Link("sync", VIOLATED, text, list(d.entry_seqs), subject=d.subject, codes=["manual_sync"]))
    elif d.automated:
        ctx.add(Link("sync", SATISFIED, "Synced automatically from Git.", list(d.entry_seqs), subject=d.subject))


RULE = Rule(
    name="sync",
    scope="after",
    reads=("deployment initiator (Argo CD initiatedBy, Flux controller)",),
    codes=("manual_sync",),
    explanation="The controller synced from Git on its own, not a person by hand.",
    check=check,
)
