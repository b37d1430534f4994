"""Whether harvests looked at the branch's protection on both sides of the merge and saw the
settings recorded: without that, what was in force at the merge itself was not observed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, Link
from evidence.compliance.custody.rules.base import Case, Rule, stamp
from evidence.compliance.custody.rules.protection import protection_at

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    pull = case.pull
    if pull is None or pull.merged_at is None:
        return
    state = protection_at(ctx, pull)
    if state.snapshot is None or state.backed:
        return
    if state.seen_before is None or state.seen_after is None:
        side = "before" if state.seen_before is None else "after"
        text = f"No harvest looked at {pull.base}'s protection {side} the merge of {pull} (within 30 days)."
    else:
        seen = f"{stamp(state.seen_before.observed_at)}, {stamp(state.seen_after.observed_at)}"
        text = (
            f"The protection seen either side of the merge ({seen}) differs from the settings recorded; what was in "
            "force at the merge itself was not observed."
        )
    link = Link(
        f"{case.prefix}protection observed",
        NOT_EVIDENCED,
        text,
        state.entry_seqs,
        subject=f"{pull.repository}@{pull.base}",
        repository=pull.repository,
        reason=NOT_LOOKED,
    )
    ctx.add(link)


RULE = Rule(
    name="protection_observed",
    scope="change",
    reads=("protection", "harvest.run (forge coverage of protection)"),
    codes=("evidence_gap",),
    explanation="Harvests saw the recorded protection on both sides of the merge (within 30 days).",
    check=check,
)
