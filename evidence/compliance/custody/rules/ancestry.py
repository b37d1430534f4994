"""Whether the commit traced is what the protected branch became through a reviewed merge.

A deployed commit is covered only by the pull request whose merge produced it (its merge or
squash commit, or the last commit of a rebase). From the pull request alone: deploying before
it was merged is `deployed_before_merge`; deploying one of its commits other than the head is
`intermediate_commit_deployed`. From the branch's recorded first-parent history
(`evidence.readmodels.ancestry`): a commit a rebase or fast-forward put on the branch before the
merged result is intermediate too; a commit the branch never was at (its head of a merge-commit
pull request, or anything else) is `not_on_protected_branch`, once a harvest of the history ran
after the deployment started (else not evidenced); and commits pushed to the branch directly
since the previous deployment of the application, shipped under this merge, are
`direct_push_under_merge`. Findings are about the commit (subject: its SHA), so the image and
configuration paths tracing the same commit raise one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, SATISFIED, VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule, forge_seen, merged_as, repo_path, stamp
from evidence.readmodels.ancestry import DIRECT, FAST_FORWARD, REBASED, revision_shas

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context
    from evidence.readmodels.models import PullRequest


def check(ctx: Context, case: Case) -> None:
    if case.path == "change":
        return  # the repository view judges merges, not deployments
    sha, pull = case.sha.lower(), case.pull
    prov = case.provenance if case.path == "image" else None
    repository = pull.repository if pull else (repo_path(prov.source_repo) if prov else "")
    name = f"{case.prefix}branch"

    def add(status: str, text: str, seqs: list[int], code: str = "", **kw: str) -> None:
        link = Link(name, status, text, [*seqs, *ctx.d.entry_seqs], subject=sha, repository=repository, **kw)
        link.codes = [code] if code else []
        ctx.add(link)

    if pull is not None and pull.merged_at is not None and ctx.started < pull.merged_at:
        text = (
            f"Deployed at {stamp(ctx.started)}, before {pull} was merged at {stamp(pull.merged_at)}: {sha[:12]} ran "
            "before the merge its review and the branch protection vouch for."
        )
        add(VIOLATED, text, [pull.entry_seq], "deployed_before_merge")
        return
    landing = ctx.loaded.ancestry.landing(sha, repository)
    if landing is None:
        _off_the_line(ctx, case, sha, pull, repository, add)
        return
    branch, seqs = landing.row.branch, [landing.row.entry_seq]
    where = f"{landing.row.repository}@{branch}"
    if landing.how in (REBASED, FAST_FORWARD):
        landed = ", ".join(s[:12] for s in sorted(merged_as(landing.pull))) if landing.pull else "unknown"
        way = "a rebase" if landing.how == REBASED else "a fast-forward"
        text = (
            f"{sha[:12]} is a commit of {landing.pull} that {way} put on {where} before the commit it merged as "
            f"({landed}): the branch at this commit is not what was reviewed."
        )
        seqs += [landing.pull.entry_seq] if landing.pull else []
        add(VIOLATED, text, seqs, "intermediate_commit_deployed")
        return
    if landing.how == DIRECT:
        later = f"; later merged under {landing.merge_pull}" if landing.merge_pull else ""
        text = f"{sha[:12]} is on {where}, pushed to it directly (no pull request landed it){later}."
        add(SATISFIED, text, seqs)
        return
    # MERGED_AS: the reviewed result; what else shipped with it?
    direct = _direct_pushes_shipped(ctx, landing)
    if direct:
        names = ", ".join(f"{x.row.sha[:12]} by {x.row.author or 'unknown'}" for x in direct)
        text = (
            f"{sha[:12]} is on {where} as the merge of {landing.pull}, but {len(direct)} commit(s) pushed to {branch} "
            f"directly since the previous deployment ship under it ({names}): no review covered them."
        )
        add(VIOLATED, text, [*seqs, *(x.row.entry_seq for x in direct)], "direct_push_under_merge")
        return
    text = f"{sha[:12]} is on {where} as the merge of {landing.pull} (first-parent history, first seen "
    text += f"{stamp(landing.row.observed_at)})."
    add(SATISFIED, text, seqs)


def _off_the_line(ctx: Context, case: Case, sha: str, pull: PullRequest | None, repository: str, add) -> None:  # type: ignore[no-untyped-def]
    """The commit is on no recorded first-parent line of its repository."""
    own = [c.lower() for c in pull.commits] if pull is not None else []
    if pull is not None and sha in own and sha != pull.head_sha.lower() and sha not in merged_as(pull):
        text = (
            f"{sha[:12]} is commit {own.index(sha) + 1} of {len(own)} of {pull}, not its reviewed head "
            f"{pull.head_sha[:12]} nor the commit it merged as: what ran was never reviewed as a whole."
        )
        add(VIOLATED, text, [pull.entry_seq], "intermediate_commit_deployed")
        return
    branch = pull.base if pull is not None else ""
    # Of its repository when known (its pull request, its provenance), else of every watched one.
    lines = [x for x in ctx.loaded.lines if x[1] == repository or not repository]
    lines = [x for x in lines if not branch or x[2] == branch]
    seen = forge_seen(ctx.loaded, repository, ctx.started)  # of any forge repository when it is not known
    if not lines or seen is None:
        what = f"{repository}@{branch}" if branch else (repository or "the repository")
        text = (
            f"No harvest recorded the first-parent history of {what} after the deployment started, so whether "
            f"{sha[:12]} is on the protected branch is not evidenced."
        )
        add(NOT_EVIDENCED, text, [pull.entry_seq] if pull else [], reason=NOT_LOOKED)
        return
    where = " or ".join(f"{x[1]}@{x[2]}" for x in sorted(lines))
    if pull is not None and sha in own:
        landed = ", ".join(s[:12] for s in sorted(merged_as(pull)))
        text = (
            f"{sha[:12]} is the head of {pull}, which was merged into {where} as {landed}; the branch was never at "
            f"{sha[:12]} (harvested {stamp(seen[1])}), so what ran is not what the protected branch became."
        )
    else:
        text = (
            f"{sha[:12]} is not on the first-parent history of {where}, harvested {stamp(seen[1])}, after the "
            "deployment started: it was not deployed from the protected branch."
        )
    add(VIOLATED, text, [seen[0], *([pull.entry_seq] if pull else [])], "not_on_protected_branch")


def _direct_pushes_shipped(ctx: Context, landing):  # type: ignore[no-untyped-def]
    """Commits pushed to the branch directly after the previous deployment's commit (or, without
    one on this line, after the merge before this one) up to the commit deployed."""
    after = None
    previous = ctx.loaded.previous.get(ctx.d.id) if ctx.d.id is not None else None
    for earlier in revision_shas(previous.revision) if previous is not None else []:
        found = ctx.loaded.ancestry.landing(earlier, landing.row.repository)
        if found is not None and found.line == landing.line and found.row.position < landing.row.position:
            after = found.row.position
            break
    shipped = ctx.loaded.ancestry.between(landing.line, after, landing.row.position)
    return [x for x in shipped if x.how == DIRECT]


RULE = Rule(
    name="ancestry",
    scope="change",
    reads=("pull request", "github.branch_history / gitlab.branch_history", "harvest.run (forge coverage)"),
    codes=(
        "deployed_before_merge",
        "intermediate_commit_deployed",
        "not_on_protected_branch",
        "direct_push_under_merge",
        "evidence_gap",
    ),
    explanation="The deployed commit is what the protected branch became through the merge of its pull request: "
    "not an intermediate commit, not before the merge, not off the branch, no direct push shipped under it.",
    check=check,
)
