"""Segregation of duties at the merge: someone other than the author merged the change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import SATISFIED, VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule, person

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    pull = case.pull
    if pull is None or not pull.merged_by:
        return  # who merged is not recorded: nothing to judge (the forge harvest records it when told)
    subject = str(pull)
    link = Link(f"{case.prefix}merger", SATISFIED, "", [pull.entry_seq], pull.url, subject, repository=pull.repository)
    if pull.author and person(pull.merged_by) & person(pull.author):
        link.status, link.codes = VIOLATED, ["author_merged_own_change"]
        link.explanation = (
            f"{subject} was merged by its author {pull.author}: nobody but the author decided it was ready to land."
        )
    else:
        link.explanation = f"{subject} was merged by {pull.merged_by}, not its author {pull.author or 'unknown'}."
    ctx.add(link)


RULE = Rule(
    name="merger",
    scope="change",
    reads=("pull request (author, merged by)",),
    codes=("author_merged_own_change",),
    explanation="Someone other than the author merged the change (segregation of duties).",
    check=check,
)
