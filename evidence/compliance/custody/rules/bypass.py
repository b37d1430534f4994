"""A merge past branch protection: a rule-suite bypass, or fewer approvals than protection required."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    pull = case.pull
    if pull is None:
        return
    suites = []
    for sha in sorted({pull.merge_commit_sha, pull.squash_commit_sha, pull.head_sha} - {""}):
        suites += ctx.loaded.bypasses.get((pull.repository, sha), [])
    required = case.settings.get("required_approvals")
    # Without dismiss-stale, the forge itself counts approvals on older heads: no bypass there.
    also = case.stale if case.settings.get("dismiss_stale_reviews") is False else []
    # The forge counts an approver who pushed a commit unless it is set not to (GitLab can be).
    also = also + (case.committed if case.settings.get("committers_may_approve") is not False else [])
    reviewers = {a.reviewer for a in [*case.counted, *also]}
    short = isinstance(required, int) and not isinstance(required, bool) and len(reviewers) < required
    if suites:
        actors = ", ".join(sorted({str(s.get("actor_name") or "someone") for _, s in suites}))
        text = f"{actors} bypassed the rules on {pull.base} to merge {pull} (rule suite result: bypass)."
        seqs = [seq for seq, _ in suites] + [pull.entry_seq]
    elif short and pull.merged_at is not None:
        text = (
            f"{pull} was merged with {len(reviewers)} approval(s) standing on its merged head while protection "
            f"required {required}: an administrator or bypass actor merged past it."
        )
        seqs = [pull.entry_seq] + [a.entry_seq for a in case.counted]
    else:
        return
    subject = str(pull)
    link = Link(f"{case.prefix}protection bypass", VIOLATED, text, seqs, pull.url, subject, case.path)
    link.codes, link.repository = ["protection_bypassed"], pull.repository
    ctx.add(link)


RULE = Rule(
    name="bypass",
    scope="change",
    reads=("approvals", "protection", "github.rule_suite"),
    codes=("protection_bypassed",),
    explanation="Nobody merged past the branch protection in force (a bypass, or too few approvals).",
    check=check,
)
