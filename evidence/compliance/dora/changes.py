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

A year of one environment is a hundred thousand deployments and hundreds of thousands of changes,
so both are read as plain tuples with their times as integer microseconds (`Micros`: no datetime
object per value), in a few queries per 5,000 deployments; `Change` objects are made only for the
changes a caller looks at.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import BigIntegerField, BooleanField, Func, Q, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from evidence.compliance.custody.load import revision_shas
from evidence.readmodels.models import Deployment, Provenance, PullRequest, PullRequestCommit
from evidence.readmodels.models.deployments import LIVE_OUTCOMES
from evidence.sources.kinds import get_forge

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HEX = frozenset("0123456789abcdef")


class Micros(Func):
    """A timestamp column as integer microseconds since 1970 (NULL stays NULL), computed by the database."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: whole seconds, then the six digits.
        # ('%%%%s': formatted once here and once more by the backend's placeholder conversion.)
        template = (
            "(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) * 1000000"
            " + CAST(substr(%(expressions)s, 21, 6) AS INTEGER))"
        )
        return self.as_sql(compiler, connection, template=template)


def moment(micros: int) -> datetime:
    """Integer microseconds since 1970 back to the aware UTC time they came from."""
    return EPOCH + timedelta(microseconds=micros)


def seconds_between(start: int, end: int) -> int:
    """Whole seconds from start to end (microseconds), truncated as int(timedelta.total_seconds())."""
    return int((end - start) / 1_000_000)


def micros_of(at: datetime) -> int:
    delta = at - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


# A pull request as the metrics read it: a tuple, indexed by these positions.
# (Its commits, two SHAs and a list per row, are most of a row's bytes: read by `landed_as` for the
# few changes that need them.)
PULL_COLUMNS = ("id", "forge", "repository", "number", "title", "base", "merged_at", "opened_at", "entry_seq")
ID, FORGE, REPOSITORY, NUMBER, TITLE, BASE, MERGED, OPENED, SEQ = range(len(PULL_COLUMNS))
Pull = tuple[Any, ...]


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
        return change_name(self.forge, self.repository, self.number)


def change_name(forge_name: str, repository: str, number: int) -> str:
    forge = get_forge(forge_name)
    return f"{forge_name}:{repository}{forge.change_mark if forge else '#'}{number}"


def pull_name(pull: Pull) -> str:
    return change_name(pull[FORGE], pull[REPOSITORY], pull[NUMBER])


class Live:
    """A live deployment as the metrics read it: `at` is its finish in microseconds; its entry
    seqs and digests stay JSON text until asked for."""

    __slots__ = ("_digests", "_seqs", "application", "at", "environment", "id", "identity", "outcome", "revision")

    def __init__(self, *row: Any) -> None:
        self.id, self.identity, self.environment, self.application, self.revision = row[:5]
        self._digests, self.at, self.outcome, self._seqs = row[5:]

    @property
    def entry_seqs(self) -> list[int]:
        if isinstance(self._seqs, str):
            self._seqs = json.loads(self._seqs)
        return self._seqs

    @property
    def image_digests(self) -> list[str]:
        if isinstance(self._digests, str):
            self._digests = json.loads(self._digests) if self._digests != "[]" else []
        return self._digests


def live_query(rows: Any) -> Any:
    return rows.filter(outcome__in=LIVE_OUTCOMES, finished_at__isnull=False)


def load_live(rows: Any) -> list[Live]:
    """The live deployments among rows (a Deployment queryset), in deployment order."""
    live = live_query(rows).order_by("finished_at", "id")
    columns = ("id", "identity", "environment", "application", "revision")
    text = TextField()
    values = live.values_list(
        *columns, Cast("image_digests", text), Micros("finished_at"), "outcome", Cast("entry_seqs", text)
    )
    return [Live(*row) for row in fetch(values)]


@dataclass
class Shipped:
    """What one deployment shipped, and the entries that say so."""

    heads: list[Change] = field(default_factory=list)  # per repository, the change it deployed
    changes: list[Change] = field(default_factory=list)  # every change shipped, oldest merge first
    provenance_seqs: list[int] = field(default_factory=list)  # provenance that named a deployed commit


def changes_shipped(deployment: Deployment) -> list[Change]:
    """The pull requests this deployment shipped (see the module's rule)."""
    history = Deployment.objects.filter(
        environment=deployment.environment,
        application=deployment.application,
        finished_at__lte=deployment.finished_at or deployment.started_at,
    )
    shipped = ship_history(load_live(history), live_query(history)).get(deployment.id, [])
    return as_changes(shipped)


def landed_as(ids: Any) -> dict[int, tuple[str, str, list[str]]]:
    """Per pull request id: its merge commit, squash commit and listed commits."""
    out: dict[int, tuple[str, str, list[str]]] = {}
    for part in chunks(ids):
        rows = PullRequest.objects.filter(id__in=part)
        for pull_id, merge, squash, commits in rows.values_list(
            "id", "merge_commit_sha", "squash_commit_sha", "commits"
        ):
            out[pull_id] = (merge, squash, commits)
    return out


def as_changes(pulls: list[Pull]) -> list[Change]:
    """Change objects for these pull tuples, in their order (one query for their commits)."""
    landed = landed_as({p[ID] for p in pulls})
    return [
        Change(
            p[ID],
            p[FORGE],
            p[REPOSITORY],
            p[NUMBER],
            p[TITLE],
            p[BASE],
            moment(p[MERGED]),
            None if p[OPENED] is None else moment(p[OPENED]),
            *landed[p[ID]],
            p[SEQ],
        )
        for p in pulls
    ]


def ship_history(live: list[Live], query: Any = None) -> dict[int, list[Pull]]:
    """Per deployment id, the changes it shipped, oldest merge first (ids that shipped nothing are
    absent); `live` is every live deployment of the applications up to the last one asked about, in
    deployment order (earlier ones decide what is new). `query`, the Deployment queryset `live`
    was read from, lets the database match revisions that are one commit SHA by a join."""
    revisions = None if query is None else query.values("revision")
    heads = _heads(*_deployed_commits(live), revisions)
    ranges = _ranges({(p[1], p[2]) for rows in heads.values() for p in rows.values()})
    full = {p[ID]: p for pulls, _ in ranges.values() for p in pulls}  # a head's row in its branch
    out: dict[int, list[Pull]] = {}
    last: dict[tuple[str, str, str], Pull] = {}  # (environment, application, repository) -> head
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)  # changes already shipped per application
    for d in live:
        mine = heads.get(d.id)
        if not mine:
            continue
        app = (d.environment, d.application)
        taken = seen[app]
        changes: list[Pull] = []
        for repository, brief in sorted(mine.items()) if len(mine) > 1 else mine.items():
            head = full[brief[0]]
            before = last.get((*app, repository))
            last[(*app, repository)] = head
            if before is None:
                new = [head]
            else:  # merged after the previous head, up to this one (binary search in merge order)
                pulls, times = ranges[(repository, head[BASE])]
                new = pulls[bisect_right(times, before[MERGED]) : bisect_right(times, head[MERGED])]
            for pull in new:
                if pull[ID] not in taken:
                    taken.add(pull[ID])
                    changes.append(pull)
        if len(mine) > 1:
            changes.sort(key=lambda p: (p[MERGED], p[ID]))
        if changes:
            out[d.id] = changes
    return out


CHUNK = 5000  # ids per IN (...): SQLite takes at most 32766 parameters


def chunks(values: Any) -> list[list[Any]]:
    items = sorted(values)
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def among(query: Any, column: str, values: Any, sql_type: str = "text") -> list[Any]:
    """query filtered to rows whose column is one of values: on PostgreSQL one semi-join on the
    values as one array parameter (however many), elsewhere one query per CHUNK values."""
    if not values:
        return []
    if connections[query.db].vendor == "postgresql":
        name = f'"{query.model._meta.db_table}"."{column}"'  # our model's names, never input
        held = RawSQL(f"{name} IN (SELECT unnest(%s::{sql_type}[]))", [sorted(values)], output_field=BooleanField())  # noqa: S611
        return [query.filter(held)]
    return [query.filter(**{f"{column}__in": part}) for part in chunks(values)]


def fetch(query: Any) -> list[tuple[Any, ...]]:
    """The rows of a values_list query as the driver gives them: no per-row converters (the
    columns read this way are numbers and text, times as `Micros`)."""
    compiler = query.query.get_compiler(using=query.db)
    sql, params = compiler.as_sql()
    with connections[query.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _deployed_commits(live: list[Live]) -> tuple[dict[int, set[str]], set[str]]:
    """Per deployment: the commits it names (revision, verified provenance of its digests); and
    the revisions that are exactly one commit SHA."""
    digests = {x for d in live for x in d.image_digests}
    by_digest: dict[str, list[str]] = defaultdict(list)
    for part in chunks(digests):
        rows = Provenance.objects.filter(digest__in=part, verdict="verified").exclude(source_commit="")
        for digest, commit in rows.values_list("digest", "source_commit"):
            by_digest[digest].append(commit.lower())
    out, bare = {}, set()
    for d in live:
        revision = d.revision
        if len(revision) in (40, 64) and HEX.issuperset(revision):
            named = [revision]  # what revision_shas gives for one lowercase SHA, without the regex
        else:
            named = revision_shas(revision)
        if named == [revision]:
            bare.add(revision)
        shas = set(named)
        if d._digests != "[]":
            for digest in d.image_digests:
                shas.update(by_digest.get(digest, ()))
        out[d.id] = shas
    return out, bare


def _heads(
    commits: dict[int, set[str]], bare: set[str], revisions: Any
) -> dict[int, dict[str, tuple[int, str, str, int]]]:
    """Per deployment, per repository, the latest-merged pull request holding a deployed commit
    (as (id, repository, base, merged) tuples: ship_history reads the rest from the branch).
    Commits that are a whole revision are matched by a semi-join on the deployments (no list of
    100,000 SHAs sent); the others by `among`. Rows whose commits are no deployed commit (a
    revision that is not a lowercase SHA) are dropped, so both ways find exactly the same."""
    shas = {s for named in commits.values() for s in named}
    if not shas:
        return {}
    joined = revisions is not None and bool(bare)
    rest = shas - bare if joined else shas
    pulls: dict[int, tuple[int, str, str, int]] = {}
    by_sha: dict[str, set[int]] = defaultdict(set)
    merged = PullRequest.objects.filter(merged_at__isnull=False)
    brief = ("id", "repository", "base", Micros("merged_at"))
    found = [*among(merged, "merge_commit_sha", rest), *among(merged, "squash_commit_sha", rest)]
    if joined:
        found += [merged.filter(merge_commit_sha__in=revisions), merged.filter(squash_commit_sha__in=revisions)]
    for rows in found:
        for pull_id, repository, base, at, merge, squash in fetch(
            rows.values_list(*brief, "merge_commit_sha", "squash_commit_sha")
        ):
            if merge not in shas and squash not in shas:
                continue
            pulls[pull_id] = (pull_id, repository, base, at)
            for sha in (merge, squash):
                if sha:
                    by_sha[sha.lower()].add(pull_id)
    commits_of_merged = PullRequestCommit.objects.filter(pull_request__merged_at__isnull=False)
    listed = among(commits_of_merged, "sha", rest)
    if joined:
        listed.append(commits_of_merged.filter(sha__in=revisions))
    for rows in listed:
        for sha, pull_id in fetch(rows.values_list("sha", "pull_request_id")):
            if sha in shas:
                by_sha[sha.lower()].add(pull_id)
    missing = {i for ids in by_sha.values() for i in ids} - set(pulls)
    for rows in among(PullRequest.objects.all(), "id", missing, "bigint"):
        pulls.update((row[0], row) for row in fetch(rows.values_list(*brief)))
    out: dict[int, dict[str, tuple[int, str, str, int]]] = {}
    for deployment_id, named in commits.items():
        mine: dict[str, tuple[int, str, str, int]] = {}
        for sha in named:
            for i in by_sha.get(sha, ()):
                pull = pulls[i]
                held = mine.get(pull[1])
                if held is None or (pull[3], pull[0]) > (held[3], held[0]):
                    mine[pull[1]] = pull
        if mine:
            out[deployment_id] = mine
    return out


def _ranges(branches: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[list[Pull], list[int]]]:
    """Every merged pull request into these branches in merge order, and their merge times."""
    out: dict[tuple[str, str], tuple[list[Pull], list[int]]] = defaultdict(lambda: ([], []))
    if not branches:
        return out
    which = Q()
    for repository, base in branches:
        which |= Q(repository=repository, base=base)
    rows = PullRequest.objects.filter(which, merged_at__isnull=False).order_by("merged_at", "id")
    columns = [Micros(c) if c in ("merged_at", "opened_at") else c for c in PULL_COLUMNS]
    for pull in fetch(rows.values_list(*columns)):
        pulls, times = out[(pull[REPOSITORY], pull[BASE])]
        pulls.append(pull)
        times.append(pull[MERGED])
    return out
