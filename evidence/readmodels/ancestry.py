"""Commit ancestry: whether a commit is on a protected branch, and which merge brought it there.

The forges' harvests record each watched branch's first-parent line (`BranchCommit` rows, the
commits the branch was at, oldest first). A commit on the line landed one of four ways:

  merged_as     it is what a pull request merged as (merge or squash commit; its head when the
                forge names neither, a fast-forward): the reviewed result
  fast_forward  a commit of a pull request that was fast-forwarded onto the line, not its head
  rebased       a commit a rebase merge rewrote onto the line (same author and author time as a
                commit of the pull request, just before the commit it merged as), not the last
  direct        no pull request landed it: pushed to the branch directly

`Ancestry` answers from a window of lines loaded in a fixed number of queries (`load_ancestry`);
`changes_shipped(deployment)` gives what a deployment shipped since the previous one of its
application and environment.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from evidence.readmodels.models import BranchCommit, Deployment, Provenance, PullRequest, PullRequestCommit
from evidence.readmodels.models.deployments import LIVE_OUTCOMES

SHA = re.compile(r"\b[0-9a-f]{40}(?:[0-9a-f]{24})?\b")
MERGED_AS, FAST_FORWARD, REBASED, DIRECT = "merged_as", "fast_forward", "rebased", "direct"
# How far along a line either side of a deployed commit we look when no earlier deployment bounds
# it (for the merge before it, and the merge after it that brought it there); and at most how far
# between two deployments.
LOOK_BACK = 50
MAX_RANGE = 5000

Line = tuple[str, str, str]  # forge, repository, branch
Landed = tuple[str, "PullRequest | None"]  # how, and the pull request that landed it


def revision_shas(revision: str) -> list[str]:
    """Commit SHAs in a controller's revision text ('abc...', 'main@sha1:abc...', 'a,b')."""
    return list(dict.fromkeys(SHA.findall(revision.lower())))


def merged_as(pull: PullRequest) -> set[str]:
    """The commits a merged change landed as: its merge or squash commit; its head when the forge
    names neither (a fast-forward merge)."""
    landed = {pull.merge_commit_sha, pull.squash_commit_sha} - {""}
    return {s.lower() for s in (landed or ({pull.head_sha} - {""}))}


@dataclass(frozen=True)
class Landing:
    """How one commit reached a branch's first-parent line."""

    row: BranchCommit
    how: str  # merged_as, fast_forward, rebased or direct
    pull: PullRequest | None  # the pull request whose merge produced it (None: direct)
    merge: BranchCommit | None  # the first merge of a pull request at or after it on the line
    merge_pull: PullRequest | None  # ... and that pull request: "which merge brought it there"

    @property
    def line(self) -> Line:
        return (self.row.forge, self.row.repository, self.row.branch)

    @property
    def reviewed(self) -> bool:
        """Whether the branch at this commit is what a pull request's review covered (its merge)."""
        return self.how == MERGED_AS


@dataclass
class Ancestry:
    """Windows of first-parent lines with the pull requests that landed their commits."""

    rows: dict[Line, list[BranchCommit]] = field(default_factory=dict)  # by position
    pulls: list[PullRequest] = field(default_factory=list)
    pull_commits: dict[int, list[PullRequestCommit]] = field(default_factory=dict)  # by pull request id, in order
    known: set[Line] = field(default_factory=set)  # lines recorded at all (beyond the window)
    _landings: dict[tuple[Line, str], Landing] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for line, rows in self.rows.items():
            self._attribute(line, rows)

    def _attribute(self, line: Line, rows: list[BranchCommit]) -> None:
        mine = [p for p in self.pulls if (p.forge, p.repository, p.base) == line]
        as_merge = {sha: p for p in mine for sha in merged_as(p)}
        as_commit = {c.sha.lower(): p for p in mine for c in self.pull_commits.get(p.id, [])}
        how: dict[str, Landed] = {}
        for i, row in enumerate(rows):
            if row.sha in as_merge:
                pull = as_merge[row.sha]
                how[row.sha] = (MERGED_AS, pull)
                self._rebased(rows, i, pull, how)
            elif row.sha in as_commit and row.sha not in how:
                how[row.sha] = (FAST_FORWARD, as_commit[row.sha])
        merge: tuple[BranchCommit, PullRequest] | None = None
        for row in reversed(rows):  # the first merge at or after each commit
            kind, pull = how.get(row.sha, (DIRECT, None))
            if kind == MERGED_AS and pull is not None:
                merge = (row, pull)
            self._landings[(line, row.sha)] = Landing(
                row, kind, pull, merge[0] if merge else None, merge[1] if merge else None
            )

    def _rebased(self, rows: list[BranchCommit], i: int, pull: PullRequest, how: dict[str, Landed]) -> None:
        """The commits just before a one-parent merge commit that a rebase rewrote from the pull
        request's own: same author and author time, in the same order."""
        own = self.pull_commits.get(pull.id, [])
        if len(rows[i].parents) != 1 or len(own) < 2 or rows[i].sha == pull.head_sha.lower():
            return
        if not _same_work(rows[i], own[-1]):
            return  # a squash: one new commit, not a copy of the last one
        for k in range(1, len(own)):
            if i - k < 0 or rows[i - k].sha in how or not _same_work(rows[i - k], own[-1 - k]):
                return
            how[rows[i - k].sha] = (REBASED, pull)

    def landing(self, sha: str, repository: str = "") -> Landing | None:
        """Where the commit is on a recorded line (of `repository` when given), or None."""
        sha = sha.lower()
        for line in sorted(self.rows):
            if repository and line[1].lower() != repository.lower():
                continue
            found = self._landings.get((line, sha))
            if found is not None:
                return found
        return None

    def lines_of(self, forge: str, repository: str) -> list[Line]:
        return sorted(line for line in self.known if line[0] == forge and line[1] == repository)

    def between(self, line: Line, after: int | None, upto: int) -> list[Landing]:
        """The line's commits after position `after` (None: from the merge before `upto`) up to `upto`."""
        rows = [r for r in self.rows.get(line, []) if r.position <= upto]
        rows = [r for r in rows if r.parents]  # a repository's first commit was pushed by nobody in review
        if after is None:
            landed = [self._landings[(line, r.sha)] for r in rows]
            start = 0
            for i in range(len(landed) - 2, -1, -1):
                if landed[i].how == MERGED_AS:
                    start = i + 1
                    break
            return landed[start:]
        return [self._landings[(line, r.sha)] for r in rows if r.position > after]


def load_ancestry(shas: set[str], bounds: list[tuple[str, str]] | None = None) -> Ancestry:
    """The lines holding these commits, from LOOK_BACK commits before each (or from its bound in
    `bounds`, (sha, an earlier sha: the previous deployment's)) up to it, with the pull requests
    that landed them. Four queries, whatever the number of commits."""
    shas = {s.lower() for s in shas}
    earlier_of: dict[str, set[str]] = defaultdict(set)
    for sha, earlier in bounds or []:
        earlier_of[sha.lower()].add(earlier.lower())
    if not shas:
        return Ancestry()
    wanted = shas | {e for values in earlier_of.values() for e in values}
    found = list(BranchCommit.objects.filter(sha__in=sorted(wanted)))
    at: dict[tuple[Line, str], int] = {((r.forge, r.repository, r.branch), r.sha): r.position for r in found}
    windows: dict[Line, tuple[int, int]] = {}
    for (line, sha), position in at.items():
        if sha not in shas:
            continue
        low = position - LOOK_BACK
        for earlier in (at.get((line, e)) for e in earlier_of.get(sha, ())):
            if earlier is not None and earlier < position:
                low = min(low, max(earlier, position - MAX_RANGE))
        high = position + LOOK_BACK
        old = windows.get(line)
        windows[line] = (min(low, old[0]), max(high, old[1])) if old else (low, high)
    known = {(r.forge, r.repository, r.branch) for r in found}
    if not windows:
        return Ancestry(known=known)
    which = Q()
    for (forge, repository, branch), (low, high) in windows.items():
        which |= Q(forge=forge, repository=repository, branch=branch, position__gte=low, position__lte=high)
    rows = list(BranchCommit.objects.filter(which).order_by("forge", "repository", "branch", "position"))
    by_line: dict[Line, list[BranchCommit]] = defaultdict(list)
    for row in rows:
        by_line[(row.forge, row.repository, row.branch)].append(row)
    window_shas = sorted({r.sha for r in rows})
    pulls = pulls_with_commits(window_shas, heads=True)
    commits: dict[int, list[PullRequestCommit]] = defaultdict(list)
    for c in PullRequestCommit.objects.filter(pull_request_id__in=[p.id for p in pulls]).order_by("position"):
        commits[c.pull_request_id].append(c)
    return Ancestry(dict(by_line), pulls, dict(commits), known | set(by_line))


def pulls_with_commits(shas: list[str] | set[str], heads: bool = False) -> list[PullRequest]:
    """Pull requests that merged as (or, with `heads`, whose head is) or contain one of these
    commits, in merge order. One query: a UNION of index lookups, one per column, since an OR
    across the commits' join makes the database read every pull request."""
    if not shas:
        return []
    shas = sorted(shas)
    columns = ["merge_commit_sha", "squash_commit_sha", *(["head_sha"] if heads else [])]
    parts = [PullRequest.objects.filter(**{f"{column}__in": shas}).order_by() for column in columns]
    parts.append(PullRequest.objects.filter(commit_rows__sha__in=shas).order_by())
    return list(parts[0].union(*parts[1:]).order_by("merged_at", "id"))


def known_lines() -> set[Line]:
    """Which (forge, repository, branch) lines have been recorded at all (one query on an index)."""
    return set(BranchCommit.objects.values_list("forge", "repository", "branch").distinct())


def _same_work(row: BranchCommit, commit: PullRequestCommit) -> bool:
    """A rebase keeps a commit's author and author time; nothing else survives it."""
    if row.authored_at is None or commit.authored_at is None or row.authored_at != commit.authored_at:
        return False
    mine = {row.author.lower(), row.author_email.lower()} - {""}
    theirs = {commit.author.lower(), commit.author_email.lower()} - {""}
    return bool(mine & theirs)


# --- what a deployment shipped --------------------------------------------------------------------


@dataclass(frozen=True)
class ShippedCommit:
    sha: str
    how: str  # merged_as, fast_forward, rebased or direct
    pull: PullRequest | None  # the pull request that landed it; None for a direct push
    landed_by: PullRequest | None  # the first merge at or after it (a direct push shipped under it)
    authored_at: datetime | None
    committed_at: datetime | None
    entry_seq: int


@dataclass(frozen=True)
class Shipped:
    """What one deployment shipped: the commits of the protected branch's line after the previous
    deployment's commit up to its own, oldest first, and the pull requests that landed them.

    `complete`: both ends are on the same recorded line (without a previous deployment, or when
    its commit is elsewhere, `commits` starts after the merge before this one's). `line`: None
    when the deployed commit is on no recorded line (then nothing is listed).
    """

    deployment: Deployment
    previous: Deployment | None
    line: Line | None
    commits: tuple[ShippedCommit, ...]
    pulls: tuple[PullRequest, ...]
    complete: bool


def changes_shipped(deployment: Deployment) -> Shipped:
    """The pull requests and commits `deployment` shipped since the previous deployment of the same
    application and environment, from the recorded ancestry (a rollback or a redeploy ships
    nothing). The deployed commit is the revision's, else the one its images' provenance names."""
    previous = (
        Deployment.objects.filter(
            environment=deployment.environment,
            application=deployment.application,
            outcome__in=LIVE_OUTCOMES,
            started_at__lt=deployment.started_at,
        )
        .exclude(id=deployment.id)
        .order_by("-started_at", "-id")
        .first()
    )
    mine, theirs = _deployed_shas(deployment), _deployed_shas(previous) if previous else []
    ancestry = load_ancestry(set(mine) | set(theirs), [(s, t) for s in mine for t in theirs])
    for sha in mine:
        here = ancestry.landing(sha)
        if here is None:
            continue
        back = next((ancestry.landing(t) for t in theirs if ancestry.landing(t)), None)
        same = back is not None and back.line == here.line
        if same and back is not None and back.row.position >= here.row.position:
            return Shipped(deployment, previous, here.line, (), (), True)  # a rollback or a redeploy
        landed = ancestry.between(here.line, back.row.position if same and back else None, here.row.position)
        commits = tuple(
            ShippedCommit(
                x.row.sha, x.how, x.pull, x.merge_pull, x.row.authored_at, x.row.committed_at, x.row.entry_seq
            )
            for x in landed
        )
        pulls = tuple(dict.fromkeys(c.pull for c in commits if c.pull is not None))
        return Shipped(deployment, previous, here.line, commits, pulls, same)
    return Shipped(deployment, previous, None, (), (), False)


def _deployed_shas(deployment: Deployment) -> list[str]:
    shas = revision_shas(deployment.revision)
    digests = list(deployment.image_digests or []) + list(deployment.images.values_list("digest", flat=True))
    if digests:
        named = Provenance.objects.filter(digest__in=digests).exclude(source_commit="")
        shas += [s.lower() for s in named.values_list("source_commit", flat=True)]
    return list(dict.fromkeys(shas))
