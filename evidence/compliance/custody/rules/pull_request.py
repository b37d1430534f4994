"""The pull request that merged the commit, and that the commit is what it merged as.

No merged pull request for a commit is a violation only where a forge harvest of the repository
ran after the deployment (it would have seen one merged before); otherwise it is not evidenced.
On the image path the provenance's commit must be the commit the change merged as (merge or
squash commit) and its repository the change's repository, else `provenance_commit_mismatch`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, SATISFIED, VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule, forge_seen, merged_as, repo_path, same_repository, stamp

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    sha, name = case.sha, f"{case.prefix}pull request"
    pulls = ctx.loaded.pulls_by_sha.get(sha, [])
    prov = case.provenance if case.path == "image" else None
    if not pulls:
        repository = repo_path(prov.source_repo) if prov else ""
        seen = forge_seen(ctx.loaded, repository, ctx.started)
        where = repository or "the forges"
        seqs = [prov.entry_seq] if prov else list(ctx.d.entry_seqs)
        if seen is not None:
            text = (
                f"No merged pull request contains {sha[:12]}, though {where} {'was' if repository else 'were'} "
                f"harvested {stamp(seen[1])}, after the deployment started: a direct push or an unreviewed commit."
            )
            ctx.add(Link(name, VIOLATED, text, [*seqs, seen[0]], subject=case.about, codes=["no_pull_request"]))
        else:
            text = (
                f"No forge harvest of {where} ran after the deployment started, so whether a reviewed pull request "
                f"merged {sha[:12]} is not evidenced."
            )
            ctx.add(Link(name, NOT_EVIDENCED, text, seqs, subject=case.about, reason=NOT_LOOKED))
        return
    exact = [p for p in pulls if sha in merged_as(p)]
    pull = exact[-1] if exact else pulls[-1]
    how = "merged as" if exact else "contains"
    text = f"{pull} by {pull.author or 'unknown'} {how} {sha[:12]}, merged into {pull.base}"
    text += f" at {stamp(pull.merged_at)} by {pull.merged_by or 'unknown'}." if pull.merged_at else "."
    link = Link(name, SATISFIED, text, [pull.entry_seq], pull.url, str(pull), repository=pull.repository)
    if prov is not None and not exact:
        link.status = VIOLATED
        link.codes.append("provenance_commit_mismatch")
        landed = ", ".join(s[:12] for s in sorted(merged_as(pull))) or "unknown"
        link.explanation += (
            f" Provenance names {sha[:12]}, a commit of the change but not the commit it merged as ({landed}): "
            "the image was not built from the merged change."
        )
        link.entry_seqs.append(prov.entry_seq)
    if prov is not None and prov.source_repo and not same_repository(prov.source_repo, pull.repository):
        link.status = VIOLATED
        if "provenance_commit_mismatch" not in link.codes:
            link.codes.append("provenance_commit_mismatch")
        link.explanation += f" Provenance names repository {prov.source_repo}, not {pull.repository}."
        link.entry_seqs.append(prov.entry_seq)
    ctx.add(link)
    case.pull = pull


RULE = Rule(
    name="pull_request",
    scope="change",
    reads=("commit", "github.pull_request / gitlab.merge_request", "harvest.run (forge coverage)", "provenance"),
    codes=("no_pull_request", "provenance_commit_mismatch", "evidence_gap"),
    explanation="A merged pull request landed the commit (as its merge or squash commit on the image path).",
    check=check,
)
