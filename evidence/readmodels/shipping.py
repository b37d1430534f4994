"""Which changes a deployment shipped, and the `ShippedChange` rows that keep the answer.

STAND-IN until commit ancestry replaces it (`evidence.readmodels.ancestry`): the rule is what the
read models know without ancestry (docs/dora.md, "Which changes a deployment shipped"):

- a deployment's *head* in a repository is the latest-merged pull request whose merge, squash or
  listed commit is a commit the deployment names: its Git revision, or the source commit that
  verified provenance gives for one of its image digests;
- it ships every pull request merged into that head's base branch after the head of the previous
  live deployment (same environment and application) in that repository, up to and including its
  own head; the first deployment seen ships its head only (what came before is not known);
- a change ships once: a rollback ships nothing, and re-deploying a change after a rollback does
  not ship it again (its lead time ends at its first deployment).

What a deployment shipped depends only on the deployments before it in its series (environment,
application), so `refresh_shipped` derives a whole series at once from the rows projected now and
writes the differences: the rows are the same whatever order the entries arrived in.
A year of one environment is a hundred thousand deployments and hundreds of thousands of changes,
so both are read as plain tuples with their times as integer microseconds (`Micros`).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.db.models import BigIntegerField, BooleanField, Func, Q, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from evidence.readmodels.ancestry import revision_shas
from evidence.readmodels.models import (
    Approval,
    Deployment,
    Provenance,
    PullRequest,
    PullRequestCommit,
    ShippedChange,
    ShippingMark,
)
from evidence.readmodels.models.deployments import LIVE_OUTCOMES

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


def micros_of(at: datetime) -> int:
    delta = at - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def moment(micros: int) -> datetime:
    """Integer microseconds since 1970 back to the aware UTC time they came from."""
    return EPOCH + timedelta(microseconds=micros)


# A pull request as the metrics read it: a tuple, indexed by these positions.
# (Its commits, two SHAs and a list per row, are most of a row's bytes: read by `landed_as` for the
# few changes that need them.)
PULL_COLUMNS = ("id", "forge", "repository", "number", "title", "base", "merged_at", "opened_at", "entry_seq")
ID, FORGE, REPOSITORY, NUMBER, TITLE, BASE, MERGED, OPENED, SEQ = range(len(PULL_COLUMNS))
Pull = tuple[Any, ...]


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


def mark(scope: str, *keys: object) -> None:
    """Note what changed for the settler (`projectors.shipping`), once per scope and key."""
    ShippingMark.objects.bulk_create(
        [ShippingMark(scope=scope, key=json.dumps(k)) for k in keys], ignore_conflicts=True
    )


def mark_series(environment: str, application: str) -> None:
    mark("series", [environment, application])


# --- the rows ------------------------------------------------------------------------------------
# A row's values as compared and written: times as integer microseconds, in this order.
ROW_COLUMNS = (
    "position", "environment", "application", "deployed_at", "forge", "repository", "number", "title", "base",
    "merged_at", "opened_at", "entry_seq", "first_approval_at", "first_approval_seq",
    "lead_seconds", "review_seconds", "delivery_seconds", "approval_seconds", "approval_to_merge_seconds",
)  # fmt: skip
APPROVAL_COLUMNS = ["first_approval_at", "first_approval_seq", "approval_seconds", "approval_to_merge_seconds"]
TIMES = frozenset({"deployed_at", "merged_at", "opened_at", "first_approval_at"})


def first_approvals(pull_ids: Any) -> dict[int, tuple[int, int]]:
    """Per pull request, its first approval: the earliest (time in microseconds, entry seq) of the
    reviews given as APPROVED (a later dismissal does not move when it was first approved)."""
    out: dict[int, tuple[int, int]] = {}
    given = Approval.objects.filter(submitted_state="APPROVED", submitted_at__isnull=False)
    for rows in among(given, "pull_request_id", pull_ids, "bigint"):
        for pull_id, at, seq in fetch(rows.values_list("pull_request_id", Micros("submitted_at"), "entry_seq")):
            if pull_id not in out or (at, seq) < out[pull_id]:
                out[pull_id] = (at, seq)
    return out


def refresh_shipped(environment: str, application: str | None = None) -> int:
    """Make the shipped rows of one series (or of every series of an environment) match what is
    projected now; return how many rows were removed or written."""
    history = Deployment.objects.filter(environment=environment)
    rows = ShippedChange.objects.filter(environment=environment)
    if application is not None:
        history, rows = history.filter(application=application), rows.filter(application=application)
    live = load_live(history)
    shipped = ship_history(live, live_query(history))
    approved = first_approvals({p[ID] for pulls in shipped.values() for p in pulls})
    wanted: dict[tuple[int, int], tuple[Any, ...]] = {}
    for d in live:
        for position, p in enumerate(shipped.get(d.id, ())):
            first = approved.get(p[ID], (None, None))
            spans = _spans(d.at, p[OPENED], p[MERGED], first[0])
            wanted[(d.id, p[ID])] = (position, d.environment, d.application, d.at, *p[FORGE:], *first, *spans)
    columns = [Micros(c) if c in TIMES else c for c in ROW_COLUMNS]
    have = {
        (row[1], row[2]): (row[0], row[3:])
        for row in fetch(rows.values_list("id", "deployment_id", "pull_request_id", *columns))
    }
    stale = [pk for key, (pk, values) in have.items() if wanted.get(key) != values]
    new = [(key, values) for key, values in wanted.items() if key not in have or have[key][1] != values]
    with transaction.atomic():
        for part in chunks(stale):
            ShippedChange.objects.filter(id__in=part).delete()
        _insert(new)
    return len(stale) + len(new)


def _seconds(start: int | None, end: int | None) -> int | None:
    """Whole seconds from start to end (microseconds), truncated toward zero as
    int(timedelta.total_seconds()); None when either is missing."""
    return None if start is None or end is None else int((end - start) / 1_000_000)


def _spans(at: int, opened: int | None, merged: int, approved: int | None) -> tuple[int | None, ...]:
    """Lead time, review, delivery, to the first approval, and from it to the merge."""
    return (
        _seconds(opened, at),
        _seconds(opened, merged),
        _seconds(merged, at),
        _seconds(opened, approved),
        _seconds(approved, merged),
    )


def _insert(new: list[tuple[tuple[int, int], tuple[Any, ...]]]) -> None:
    """Write the new rows: on PostgreSQL by COPY (a rebuild writes a year's 300,000 at once, and
    model instances and INSERT parameters cost a millisecond a row), elsewhere by bulk_create."""
    connection = connections[ShippedChange.objects.db]
    if connection.vendor != "postgresql":
        ShippedChange.objects.bulk_create((_row(key, values) for key, values in new), batch_size=2000)
        return
    times = [i for i, c in enumerate(ROW_COLUMNS) if c in TIMES]
    columns = ", ".join(("deployment_id", "pull_request_id", *ROW_COLUMNS))
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {ShippedChange._meta.db_table} ({columns}) FROM STDIN"  # our names, never input
        ) as copy,
    ):
        for key, values in new:
            row = list(values)
            for i in times:
                if row[i] is not None:
                    row[i] = moment(row[i])
            copy.write_row((*key, *row))


def _row(key: tuple[int, int], values: tuple[Any, ...]) -> ShippedChange:
    fields = {c: (moment(v) if c in TIMES and v is not None else v) for c, v in zip(ROW_COLUMNS, values, strict=True)}
    return ShippedChange(deployment_id=key[0], pull_request_id=key[1], **fields)


def refresh_first_approvals(pull_ids: set[int]) -> None:
    """Bring the first-approval columns of these pull requests' rows to their approvals now."""
    approved = first_approvals(pull_ids)
    for pull_id in sorted(pull_ids):
        at, seq = approved.get(pull_id, (None, None))
        for row in ShippedChange.objects.filter(pull_request_id=pull_id):
            row.first_approval_at, row.first_approval_seq = (None if at is None else moment(at)), seq
            opened = None if row.opened_at is None else micros_of(row.opened_at)
            row.approval_seconds = _seconds(opened, at)
            row.approval_to_merge_seconds = _seconds(at, micros_of(row.merged_at))
            row.save(
                update_fields=[
                    "first_approval_at",
                    "first_approval_seq",
                    "approval_seconds",
                    "approval_to_merge_seconds",
                ]
            )
