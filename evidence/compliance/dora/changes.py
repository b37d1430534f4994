"""Which changes a deployment shipped, as the DORA metrics ask it.

The rule (docs/dora.md) lives with the read model that keeps its answer, `ShippedChange` rows
(`evidence.readmodels.shipping`); the metrics read those rows (`shipped_rows`), `changes_shipped`
answers for one deployment. When commit ancestry replaces the rule, it replaces it there.

A year of one environment is a hundred thousand deployments and hundreds of thousands of changes,
so both are read as plain tuples with their times as integer microseconds (`Micros`: no datetime
object per value); `Change` objects are made only for the changes a caller looks at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
__all__ += ["Live", "Micros", "Pull", "fetch", "live_query", "load_live", "micros_of", "moment"]
# A shipped row as the metrics read it: the pull tuple's columns, then the first approval's.
SHIPPED_COLUMNS = (
    "deployment_id", "pull_request_id", "forge", "repository", "number", "title", "base",
    Micros("merged_at"), Micros("opened_at"), "entry_seq", Micros("first_approval_at"), "first_approval_seq",
)  # fmt: skip


# A shipped change with an opened time as the figures read it: its deployment's finish, then its
# spans in whole seconds (as stored; the approval ones None without an approval).
SPAN_COLUMNS = (
    Micros("deployed_at"), "lead_seconds", "review_seconds", "delivery_seconds", "approval_seconds",
    "approval_to_merge_seconds",
)  # fmt: skip


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
