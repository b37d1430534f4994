"""Which changes a deployment shipped: the one place the DORA metrics ask it.

STAND-IN until commit ancestry lands (branch `ancestry`): its function giving the pull requests a
deployment shipped since the previous deployment of the same application and environment
replaces `ship_history` here, and nothing else changes. Until then the rule is what the read
models know without ancestry:

- a deployment's *head* in a repository is the latest-merged pull request whose merge, squash or
  listed commit is a commit the deployment names: its Git revision, or the source commit that
  verified provenance gives for one of its image digests;
- it ships every pull request merged into that head's base branch after the head of the previous
  live deployment (same environment and application) in that repository, up to and including its
  own head; the first deployment seen ships its head only (what came before is not known);
- a change ships once: a rollback ships nothing, and re-deploying a change after a rollback does
  not ship it again (its lead time ends at its first deployment).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q

from evidence.compliance.custody.load import deployed_at, revision_shas
from evidence.readmodels.models import Deployment, Provenance, PullRequest, PullRequestCommit
from evidence.sources.kinds import get_forge

# The columns of a pull request the metrics read: loaded as tuples, not model instances (a year
# of one environment is hundreds of thousands of changes).
FIELDS = (
    "id",
    "forge",
    "repository",
    "number",
    "title",
    "base",
    "merged_at",
    "opened_at",
    "merge_commit_sha",
    "squash_commit_sha",
    "commits",
    "entry_seq",
)


@dataclass(frozen=True, slots=True)
class Change:
    """A merged pull/merge request as the metrics read it (a row of PullRequest)."""

    id: int
    forge: str
    repository: str
    number: int
    title: str
    base: str
    merged_at: datetime
    opened_at: datetime | None
    merge_commit_sha: str
    squash_commit_sha: str
    commits: list[str]
    entry_seq: int

    def __str__(self) -> str:
        forge = get_forge(self.forge)
        return f"{self.forge}:{self.repository}{forge.change_mark if forge else '#'}{self.number}"


@dataclass
class Shipped:
    """What one deployment shipped, and the entries that say so."""

    heads: list[Change] = field(default_factory=list)  # per repository, the change it deployed
    changes: list[Change] = field(default_factory=list)  # every change shipped, oldest merge first
    provenance_seqs: list[int] = field(default_factory=list)  # provenance that named a deployed commit


def _rows(query: Any) -> list[Change]:
    return [Change(*row) for row in query.values_list(*FIELDS)]


def changes_shipped(deployment: Deployment) -> list[Change]:
    """The pull requests this deployment shipped (see the module's rule)."""
    history = Deployment.objects.filter(
        environment=deployment.environment,
        application=deployment.application,
        finished_at__isnull=False,
        finished_at__lte=deployed_at(deployment),
        outcome__in=("succeeded", "degraded", "rolled_back"),
    ).order_by("finished_at", "id")
    return ship_history(list(history)).get(deployment.id, Shipped()).changes


def ship_history(deployments: list[Deployment]) -> dict[int, Shipped]:
    """Per deployment id, what it shipped; `deployments` is every live deployment of the
    applications up to the last one asked about (earlier ones decide what is new). Queries: a few
    per 5,000 deployments."""
    ordered = sorted(deployments, key=lambda d: (deployed_at(d), d.id))
    commits = _deployed_commits(ordered)
    heads = _heads(commits)
    out: dict[int, Shipped] = {}
    last: dict[tuple[str, str, str], Change] = {}  # (environment, application, repository) -> head
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)  # changes already shipped per application
    ranges = _ranges({(p.repository, p.base) for rows in heads.values() for p in rows.values()})
    for d in ordered:
        shipped = Shipped(provenance_seqs=sorted(commits[d.id][1]))
        app = (d.environment, d.application)
        for repository, head in sorted(heads.get(d.id, {}).items()):
            shipped.heads.append(head)
            before = last.get((*app, repository))
            last[(*app, repository)] = head
            if before is None:
                new = [head]
            else:  # merged after the previous head, up to this one (binary search in merge order)
                pulls, times = ranges[(repository, head.base)]
                new = pulls[bisect_right(times, before.merged_at) : bisect_right(times, head.merged_at)]
            for pull in new:
                if pull.id not in seen[app]:
                    seen[app].add(pull.id)
                    shipped.changes.append(pull)
        shipped.changes.sort(key=lambda p: (p.merged_at, p.id))
        out[d.id] = shipped
    return out


CHUNK = 5000  # ids per IN (...): SQLite takes at most 32766 parameters


def chunks(values: Any) -> list[list[Any]]:
    items = sorted(values)
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _deployed_commits(deployments: list[Deployment]) -> dict[int, tuple[set[str], set[int]]]:
    """Per deployment: the commits it names (revision, provenance of its digests), provenance seqs."""
    digests = {x for d in deployments for x in d.image_digests}
    by_digest: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for part in chunks(digests):
        rows = Provenance.objects.filter(digest__in=part, verdict="verified").exclude(source_commit="")
        for digest, commit, seq in rows.values_list("digest", "source_commit", "entry_seq"):
            by_digest[digest].append((commit.lower(), seq))
    out = {}
    for d in deployments:
        shas, seqs = set(revision_shas(d.revision)), set()
        for digest in d.image_digests:
            for commit, seq in by_digest.get(digest, []):
                shas.add(commit)
                seqs.add(seq)
        out[d.id] = (shas, seqs)
    return out


def _heads(commits: dict[int, tuple[set[str], set[int]]]) -> dict[int, dict[str, Change]]:
    """Per deployment, per repository, the latest-merged pull request holding a deployed commit."""
    shas = {s for named, _ in commits.values() for s in named}
    if not shas:
        return {}
    pulls: dict[int, Change] = {}
    for part in chunks(shas):
        by_merge = Q(merge_commit_sha__in=part) | Q(squash_commit_sha__in=part)
        pulls.update((p.id, p) for p in _rows(PullRequest.objects.filter(by_merge, merged_at__isnull=False)))
    by_sha: dict[str, set[int]] = defaultdict(set)
    for p in pulls.values():
        for sha in (p.merge_commit_sha, p.squash_commit_sha):
            if sha:
                by_sha[sha.lower()].add(p.id)
    for part in chunks(shas):
        listed = PullRequestCommit.objects.filter(sha__in=part, pull_request__merged_at__isnull=False)
        for sha, pull_id in listed.values_list("sha", "pull_request_id"):
            by_sha[sha.lower()].add(pull_id)
    missing = {i for ids in by_sha.values() for i in ids} - set(pulls)
    for part in chunks(missing):
        pulls.update((p.id, p) for p in _rows(PullRequest.objects.filter(id__in=part)))
    out: dict[int, dict[str, Change]] = {}
    for deployment_id, (named, _) in commits.items():
        mine: dict[str, Change] = {}
        for pull in (pulls[i] for sha in named for i in by_sha.get(sha, ())):
            held = mine.get(pull.repository)
            if held is None or (pull.merged_at, pull.id) > (held.merged_at, held.id):
                mine[pull.repository] = pull
        if mine:
            out[deployment_id] = mine
    return out


def _ranges(branches: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[list[Change], list[Any]]]:
    """Every merged pull request into these branches in merge order, and their merge times."""
    out: dict[tuple[str, str], tuple[list[Change], list[Any]]] = defaultdict(lambda: ([], []))
    if not branches:
        return out
    which = Q()
    for repository, base in branches:
        which |= Q(repository=repository, base=base)
    for pull in _rows(PullRequest.objects.filter(which, merged_at__isnull=False).order_by("merged_at", "id")):
        pulls, times = out[(pull.repository, pull.base)]
        pulls.append(pull)
        times.append(pull.merged_at)
    return out
