"""A deployment whose revision names no Git commit cannot be traced to a reviewed change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, Link
from evidence.compliance.custody.rules.base import Case, Rule

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    if ctx.revision_shas:
        return
    d = ctx.d
    text = (
        f"The deployment names no Git commit (revision {d.revision or 'empty'!r}), so its configuration is not traced."
    )
    link = Link("config revision", NOT_EVIDENCED, text, list(d.entry_seqs), subject=d.subject, reason=NOT_LOOKED)
    ctx.add(link, path="config")


RULE = Rule(
    name="config_revision",
    scope="after",
    reads=("deployed revision",),
    codes=("evidence_gap",),
    explanation="The deployed revision names the Git commit(s) it was synced from.",
    check=check,
)
