"""Emergency changes: shipped without an approval standing before it landed.

A change traced with no approval standing at its merge (or with no pull request at all) is an
emergency change when it went out by hand (a manual sync) or was approved only after the fact
(a review given after the merge: shown as such, never counted as prior approval). A change with
no approval that was neither is left to the approvals and pull-request rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule, stamp

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    d = ctx.d
    approved = {c.sha for c in ctx.cases if c.counted}
    unapproved = [c for c in ctx.cases if c.sha not in approved]
    if not unapproved:
        return
    manual = d.automated is False
    late = {a.id: (c, a) for c in unapproved for a in c.after_fact}
    if not manual and not late:
        return
    what = ", ".join(dict.fromkeys(str(c.pull) if c.pull else f"commit {c.sha[:12]}" for c in unapproved))
    how = f"synced by hand by {d.initiated_by or 'someone'}" if manual else "synced from Git"
    text = f"{what} reached {d.environment} with no approval standing before it landed ({how})."
    seqs = list(d.entry_seqs)
    if late:
        after = "; ".join(
            f"{a.reviewer} approved {c.pull} at {stamp(a.submitted_at)}, after its merge at {stamp(c.pull.merged_at)}"
            for c, a in late.values()
            if c.pull is not None
        )
        text += f" Approved after the fact: {after}."
        seqs += [a.entry_seq for _, a in late.values()]
    else:
        text += " No approval was recorded after the fact either."
    seqs += [c.pull.entry_seq for c in unapproved if c.pull is not None]
    ctx.add(Link("emergency change", VIOLATED, text, seqs, subject=d.subject, codes=["emergency_change"]))


RULE = Rule(
    name="emergency",
    scope="after",
    reads=("approvals (standing at the merge, given after it)", "deployment initiator"),
    codes=("emergency_change",),
    explanation="A change without prior approval that went out by hand or was approved only after the fact is "
    "an emergency change, its later approval shown as such.",
    check=check,
)
