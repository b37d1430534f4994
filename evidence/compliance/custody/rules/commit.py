"""The commit traced: the deployed revision, or the source commit an image's provenance names.

On the image path the provenance's commit must be the deployed revision whenever the deployed
revision is a commit of the same repository; a provenance naming another commit is
`provenance_commit_mismatch`, citing the provenance, the deployment and the pull request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import SATISFIED, VIOLATED, Link
from evidence.compliance.custody.rules.base import Case, Rule, commit_url, same_repository

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    sha, d = case.sha, ctx.d
    pulls = ctx.loaded.pulls_by_sha.get(sha, [])
    if case.path != "image" or case.provenance is None:
        url = commit_url(sha, pulls[-1] if pulls else None)
        text = f"The deployed revision names commit {sha[:12]}."
        ctx.add(Link(f"{case.prefix}commit", SATISFIED, text, list(d.entry_seqs), url, sha))
        return
    prov = case.provenance
    url = commit_url(sha, pulls[-1] if pulls else None, prov.source_repo)
    link = Link("commit", SATISFIED, "", [prov.entry_seq], url, case.about, repository=prov.source_repo)
    if sha in ctx.revision_shas:
        link.explanation = f"Provenance names {sha[:12]}, the deployed revision."
        link.entry_seqs += list(d.entry_seqs)
        ctx.add(link)
        return
    same = [
        (r, p)
        for r in ctx.revision_shas
        for p in ctx.loaded.pulls_by_sha.get(r, [])
        if prov.source_repo and same_repository(prov.source_repo, p.repository)
    ]
    if same:
        revision, pull = same[0]
        link.status, link.codes = VIOLATED, ["provenance_commit_mismatch"]
        link.explanation = (
            f"Provenance says the image was built from {sha[:12]}, but the deployment deployed {revision[:12]} of the "
            f"same repository ({pull}): the image is not the build of the deployed revision."
        )
        link.entry_seqs += [*d.entry_seqs, pull.entry_seq]
    else:
        link.explanation = f"Provenance names source commit {sha[:12]}" + (
            f" (the deployed revision {ctx.revision_shas[0][:12]} is of another repository)."
            if ctx.revision_shas
            else "."
        )
    ctx.add(link)


RULE = Rule(
    name="commit",
    scope="change",
    reads=("provenance", "deployed revision", "github.pull_request / gitlab.merge_request"),
    codes=("provenance_commit_mismatch",),
    explanation="The commit an image was built from is the deployed revision (same repository); on the "
    "configuration path, the commit the deployment names.",
    check=check,
)
