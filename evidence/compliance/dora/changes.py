"""Which changes a deployment shipped, as the DORA metrics ask it.

The rule (docs/dora.md) lives with the read model that keeps its answer, `ShippedChange` rows
(`evidence.readmodels.shipping`); the metrics read those rows (`shipped_rows`), `changes_shipped`
answers for one deployment. When commit ancestry replaces the rule, it replaces it there.

A year of one environment is a hundred thousand deployments and hundreds of thousands of changes,
so both are read as plain tuples with their times as integer microseconds (`Micros`: no datetime
object per value), the lead time's percentiles are the database's where it is PostgreSQL
(`lead_figures`), and `Change` objects are made only for the changes a caller looks at.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connections
from django.db.models import Aggregate, BigIntegerField, Count, Func, IntegerField, Q

from evidence.compliance.dora.bands import percentile
from evidence.readmodels.models import Deployment, PullRequest, ShippedChange
from evidence.readmodels.shipping import (
    BASE,
    FORGE,
    ID,
    MERGED,
    NUMBER,
    OPENED,
    PULL_COLUMNS,
    REPOSITORY,
    SEQ,
    TITLE,
    Live,
    Micros,
    Pull,
    among,
    chunks,
    fetch,
    live_query,
    load_live,
    micros_of,
    moment,
)
from evidence.sources.kinds import get_forge

__all__ = ["BASE", "ID", "MERGED", "OPENED", "PULL_COLUMNS", "REPOSITORY", "SEQ", "TITLE"]
__all__ += ["Live", "Micros", "Pull", "among", "fetch", "live_query", "load_live", "micros_of", "moment"]
# A shipped row as the metrics read it: the pull tuple's columns, then the first approval's.
SHIPPED_COLUMNS = (
    "deployment_id", "pull_request_id", "forge", "repository", "number", "title", "base",
    Micros("merged_at"), Micros("opened_at"), "entry_seq", Micros("first_approval_at"), "first_approval_seq",
)  # fmt: skip


# A shipped change with an opened time as the figures read it: its deployment's finish, then its
# spans in whole seconds (as stored; the approval ones None without an approval).
SPAN_NAMES = (
    "deployed_at", "lead_seconds", "review_seconds", "delivery_seconds", "approval_seconds",
    "approval_to_merge_seconds",
)  # fmt: skip
SPAN_COLUMNS = (Micros("deployed_at"), *SPAN_NAMES[1:])


class Deployed(NamedTuple):
    """A live deployment as the figures read it: `at` is its finish in microseconds."""

    id: int
    application: str
    at: int
    outcome: str


def load_deployed(rows: Any) -> list[Deployed]:
    """The live deployments among rows (a Deployment queryset), in deployment order, as `Deployed`
    (a year is a hundred thousand: four columns each, no text the figures do not use)."""
    live = live_query(rows).order_by("finished_at", "id")
    return list(map(Deployed._make, fetch(live.values_list("id", "application", Micros("finished_at"), "outcome"))))


def seconds_between(start: int, end: int) -> int:
    """Whole seconds from start to end (microseconds), truncated as int(timedelta.total_seconds())."""
    return int((end - start) / 1_000_000)


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


def changes_shipped(deployment: Deployment) -> list[Change]:
    """The pull requests this deployment shipped (the rule: `evidence.readmodels.shipping`)."""
    rows = ShippedChange.objects.filter(deployment=deployment).order_by("position")
    return as_changes([row[1:10] for row in fetch(rows.values_list(*SHIPPED_COLUMNS))])


def _shipped(environment: str, application: str | None, start: int | None, end: int) -> Any:
    rows = ShippedChange.objects.filter(environment=environment, deployed_at__lt=moment(end))
    if application is not None:
        rows = rows.filter(application=application)
    if start is not None:
        rows = rows.filter(deployed_at__gte=moment(start))
    return rows.order_by("deployed_at", "deployment_id", "position")


def shipped_spans(environment: str, application: str | None, start: int, end: int) -> tuple[int, list[tuple[int, ...]]]:
    """How many changes the live deployments finished in [start, end) (microseconds) shipped; and
    those with an opened time as `SPAN_COLUMNS`, in time order: numbers only, no pull request."""
    rows = _shipped(environment, application, start, end)
    spans = fetch(rows.filter(lead_seconds__isnull=False).order_by("deployed_at").values_list(*SPAN_COLUMNS))
    return len(spans) + rows.filter(lead_seconds__isnull=True).count(), spans


# The breakdown of lead time, each the median of one stored span (its name in the figures first).
BREAKDOWN = (
    ("delivery", "delivery_seconds"),
    ("first_approval_to_merge", "approval_to_merge_seconds"),
    ("review", "review_seconds"),
    ("review_to_first_approval", "approval_seconds"),
)


@dataclass(frozen=True)
class LeadFigures:
    """The lead time figures of the changes shipped in a period, in whole seconds (None: no data)."""

    shipped: int  # changes shipped
    evidenced: int  # of which with an opened time: the lead time samples
    median: int | None
    p90: int | None
    breakdown: dict[str, int | None]  # per BREAKDOWN name, the median of the evidenced changes' span
    trend: list[tuple[int, int | None]]  # per bucket: evidenced changes, their median lead time


def lead_figures(
    environment: str, application: str | None, start: int, end: int, buckets: list[tuple[int, int]]
) -> LeadFigures:
    """The lead time figures of the changes shipped in [start, end) (microseconds), the trend per
    bucket ([from, to) microseconds, in order, covering the period). Nearest-rank percentiles of
    the stored spans: computed by PostgreSQL where it runs (a year is 280,000 changes, sorted five
    times over: in the database, no row crosses the wire), else from the spans read as numbers."""
    rows = _shipped(environment, application, start, end).order_by()
    if connections[rows.db].vendor == "postgresql":
        return _lead_figures_in_database(rows, buckets)
    shipped, spans = shipped_spans(environment, application, start, end)
    return lead_figures_of(shipped, spans, buckets)


def lead_figures_of(shipped: int, spans: list[tuple[int, ...]], buckets: list[tuple[int, int]]) -> LeadFigures:
    """LeadFigures from `shipped_spans`' answer (the spans as SPAN_COLUMNS, in time order)."""
    read = [list(c) for c in zip(*spans, strict=True)] if spans else [[] for _ in SPAN_NAMES]
    columns = dict(zip(SPAN_NAMES, read, strict=True))
    ats, values = columns["deployed_at"], columns["lead_seconds"]
    breakdown = {name: percentile([v for v in columns[column] if v is not None], 50) for name, column in BREAKDOWN}
    trend = []
    for lo_at, hi_at in buckets:
        lo, hi = bisect_left(ats, lo_at), bisect_left(ats, hi_at)
        trend.append((hi - lo, percentile(values[lo:hi], 50)))
    values.sort()
    return LeadFigures(shipped, len(values), _nearest(values, 50), _nearest(values, 90), breakdown, trend)


def _nearest(ordered: list[int], p: int) -> int | None:
    """bands.percentile of values already sorted."""
    if not ordered:
        return None
    return ordered[max(1, -(-p * len(ordered) // 100)) - 1]


class NearestRank(Aggregate):
    """PostgreSQL's percentile_disc(p/100): the value at rank ceil(p/100 * n) in order, the same as
    `bands.percentile` for p 50 and 90. (percentile_disc takes the rank as ceil() of the fraction, a
    double, times n. 0.5 is exact. 0.9 as a double is 0.9 + 2.2e-17, so 0.9 * n is off by at most
    n * 2.5e-17 relative to 9n/10, less than half a unit in the last place of 9n/10 for any n: when
    9n/10 is whole the product rounds to it exactly, else it is at least 0.1 from a whole number.)"""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = BigIntegerField()

    def __init__(self, expression: str, p: int, **extra: Any) -> None:
        if p not in (50, 90):
            raise ValueError("only the median and p90 are known to equal the nearest rank")
        super().__init__(expression, fraction=f"0.{p}", **extra)


class BucketOf(Func):
    """The bucket (1, 2, ...) a time falls in, given the buckets' starts in order: width_bucket."""

    output_field = IntegerField()

    def __init__(self, expression: str, starts: list[datetime]) -> None:
        super().__init__(expression)
        self.starts = starts

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"width_bucket({sql}, %s::timestamptz[])", [*params, self.starts]


def _lead_figures_in_database(rows: Any, buckets: list[tuple[int, int]]) -> LeadFigures:
    evidenced = Q(lead_seconds__isnull=False)
    figures = rows.aggregate(
        shipped=Count("pk"),
        evidenced=Count("lead_seconds"),
        median=NearestRank("lead_seconds", 50),
        p90=NearestRank("lead_seconds", 90),
        **{name: NearestRank(column, 50, filter=evidenced) for name, column in BREAKDOWN},
    )
    per_bucket = {
        bucket: (n, median)
        for bucket, n, median in rows.filter(evidenced)
        .annotate(bucket=BucketOf("deployed_at", [moment(lo) for lo, _ in buckets]))
        .values("bucket")
        .annotate(n=Count("pk"), median=NearestRank("lead_seconds", 50))
        .values_list("bucket", "n", "median")
    }
    return LeadFigures(
        figures["shipped"],
        figures["evidenced"],
        figures["median"],
        figures["p90"],
        {name: figures[name] for name, _ in BREAKDOWN},
        [per_bucket.get(i, (0, None)) for i in range(1, len(buckets) + 1)],
    )


def shipped_titles(environment: str, application: str | None, start: int, end: int) -> list[str]:
    """The distinct titles of the changes shipped in [start, end)."""
    rows = _shipped(environment, application, start, end).order_by()
    return [title for (title,) in fetch(rows.values_list("title").distinct())]


def shipped_titled(
    environment: str, application: str | None, start: int, end: int, titles: list[str]
) -> list[tuple[int, Pull]]:
    """(deployment id, pull tuple) of the changes shipped in [start, end) under these titles, in
    deployment order, oldest merge first."""
    out = []
    for rows in among(_shipped(environment, application, start, end), "title", titles):
        out += [(row[0], row[1:10]) for row in fetch(rows.values_list(*SHIPPED_COLUMNS))]
    return out


def shipped_rows(
    environment: str, application: str | None, start: int | None, end: int
) -> tuple[dict[int, list[Pull]], dict[int, tuple[int, int]]]:
    """Per live deployment finished in [start, end) (microseconds; None: from the first), the
    changes it shipped, oldest merge first; and each change's first approval (time, entry seq)."""
    shipped: dict[int, list[Pull]] = {}
    approved: dict[int, tuple[int, int]] = {}
    for row in fetch(_shipped(environment, application, start, end).values_list(*SHIPPED_COLUMNS)):
        pulls = shipped.get(row[0])
        if pulls is None:
            pulls = shipped[row[0]] = []
        pulls.append(row[1:10])
        if row[10] is not None:
            approved[row[1]] = (row[10], row[11])
    return shipped, approved


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
