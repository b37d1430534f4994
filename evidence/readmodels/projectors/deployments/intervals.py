"""Running intervals and deployment commits: read models derived from Deployment rows alone.

A series (environment, application) is re-derived whole whenever one of its deployments is saved,
so the rows depend only on the deployments, never on the order entries were projected in. Only
the differences are written: a new deployment at the end of a series closes one interval and opens
one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from evidence.readmodels.models import DeployedApplication, Deployment, DeploymentCommit, RunningInterval
from evidence.readmodels.models.deployments import LIVE_OUTCOMES

SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
Interval = tuple[str, str, datetime, datetime | None]  # environment, application, started, ended
BATCH = 5000


def refresh_intervals(environment: str | None = None, application: str | None = None) -> int:
    """Make the intervals of one series (or of one environment, or of all) match its deployments;
    return how many rows were written or removed."""
    if environment is None:
        names = DeployedApplication.objects.order_by("environment").values_list("environment", flat=True).distinct()
        return sum(refresh_intervals(name) for name in list(names))
    scope = {"environment": environment} | ({"application": application} if application is not None else {})
    wanted = dict(_derived(scope))
    have: dict[int, tuple[int, Interval]] = {
        deployment: (pk, (env, app, started, ended))
        for pk, deployment, env, app, started, ended in RunningInterval.objects.filter(**scope).values_list(
            "id", "deployment_id", "environment", "application", "started", "ended"
        )
    }
    # a deployment whose finish moved (rare) is written anew; one that only gained a successor is updated
    gone = {d for d, (_, v) in have.items() if d not in wanted or wanted[d][:3] != v[:3]}
    ended = [
        RunningInterval(pk=pk, ended=wanted[d][3]) for d, (pk, v) in have.items() if d not in gone and wanted[d] != v
    ]
    if gone:
        RunningInterval.objects.filter(deployment_id__in=gone).delete()
    RunningInterval.objects.bulk_update(ended, ["ended"], batch_size=BATCH)
    # new rows in time order, as a projection in seq order writes them: "at T" reads neighbouring pages
    new = sorted((v[2], d) for d, v in wanted.items() if d not in have or d in gone)
    RunningInterval.objects.bulk_create([_row(d, wanted[d]) for _, d in new], batch_size=BATCH)
    return len(gone) + len(ended) + len(new)


def _derived(scope: dict[str, str]) -> Iterator[tuple[int, Interval]]:
    """Each live deployment runs from its finish until the next one's (ties broken by id, as running-at)."""
    rows = (
        Deployment.objects.filter(**scope, finished_at__isnull=False, outcome__in=LIVE_OUTCOMES)
        .order_by("environment", "application", "finished_at", "id")
        .values_list("id", "environment", "application", "finished_at")
    )
    previous: tuple[int, str, str, datetime] | None = None
    for pk, env, app, finished in rows.iterator(chunk_size=BATCH):
        if previous is not None:
            ended = finished if (previous[1], previous[2]) == (env, app) else None
            yield previous[0], (previous[1], previous[2], previous[3], ended)
        previous = (pk, env, app, finished)
    if previous is not None:
        yield previous[0], (previous[1], previous[2], previous[3], None)


def _row(pk: int, value: Interval) -> RunningInterval:
    environment, application, started, ended = value
    return RunningInterval(
        deployment_id=pk, environment=environment, application=application, started=started, ended=ended
    )


def commit_shas(revision: str) -> list[str]:
    """Commit SHAs a controller's revision names: Argo CD `<sha>` (comma-joined for several sources),
    Flux `main@sha1:<sha>` or the older `main/<sha>`; chart versions and OCI digests name none."""
    found = set()
    for part in revision.split(","):
        part = part.strip()
        if "@sha256:" in part or part.startswith("sha256:"):
            continue  # an OCI artifact digest (Flux OCIRepository), not a commit
        tail = part.rpartition("@sha1:")[2] if "@sha1:" in part else part.rpartition("/")[2]
        tail = tail.removeprefix("sha1:").lower()
        if SHA.fullmatch(tail):
            found.add(tail)
    return sorted(found)


def refresh_commits(row: Deployment) -> None:
    """Make the deployment's commit rows match its revision."""
    wanted = set(commit_shas(row.revision))
    have = set(DeploymentCommit.objects.filter(deployment=row).values_list("sha", flat=True))
    if have - wanted:
        DeploymentCommit.objects.filter(deployment=row, sha__in=have - wanted).delete()
    DeploymentCommit.objects.bulk_create([DeploymentCommit(deployment=row, sha=sha) for sha in sorted(wanted - have)])
