"""Controller history that rolled over unseen around the deployment: deployments may be missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, Link
from evidence.compliance.custody.rules.base import Case, Rule

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    d = ctx.d
    for gap in ctx.loaded.gaps.get((d.environment, d.application), []):
        if gap.after and gap.after > ctx.at:
            continue
        if gap.before and gap.before < ctx.at:
            continue
        text = (
            f"The controller's history rolled over unseen around this deployment ({len(gap.missing)} item(s) never "
            "observed), so deployments may be missing from the record."
        )
        subject = f"{d.environment}/{d.application}"
        ctx.add(Link("history", NOT_EVIDENCED, text, [gap.entry_seq], subject=subject, reason=NOT_LOOKED))


RULE = Rule(
    name="history",
    scope="after",
    reads=("deploy.gap",),
    codes=("evidence_gap",),
    explanation="No controller history rolled over unseen around the deployment.",
    check=check,
)
