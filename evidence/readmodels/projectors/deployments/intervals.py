"""Running intervals and deployment commits: read models derived from Deployment rows alone.

A series (environment, application) is re-derived whole whenever one of its deployments is saved,
so the rows depend only on the deployments, never on the order entries were projected in. The
derivation is two set-based statements, and only the differences are written: a new deployment at
the end of a series rewrites the interval it closes and adds its own.
"""

from __future__ import annotations

import re

from django.db import connection

from evidence.readmodels.models import DeployedApplication, Deployment, DeploymentCommit, RunningInterval
from evidence.readmodels.models.deployments import LIVE_OUTCOMES

SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
COPIED = ("revision", "image_digests", "running_since", "outcome", "controller", "entry_seqs")
# Each live deployment runs from its finish until the next one's (ties broken by id, as running-at).
WANTED = (
    "WITH wanted AS (SELECT d.id AS deployment_id, d.environment, d.application, d.finished_at AS started, "
    "LEAD(d.finished_at) OVER (PARTITION BY d.environment, d.application ORDER BY d.finished_at, d.id) AS ended, "
    + ", ".join(f"d.{c}" for c in COPIED)
    + " FROM {deployments} d WHERE {scope_d} AND d.finished_at IS NOT NULL AND d.outcome IN ({live})) "
)
# (statements that start with their verb, so both drivers report the rows they changed)
STALE = (
    "DELETE FROM {intervals} WHERE {scope_i} AND deployment_id NOT IN ("
    + WANTED
    + "SELECT w.deployment_id FROM wanted w JOIN {intervals} k ON k.deployment_id = w.deployment_id "
    "AND k.started = w.started " + " ".join(f"AND k.{c} {{same}} w.{c}" for c in ("ended", *COPIED)) + ")"
)
COLUMNS = ", ".join(("deployment_id", "environment", "application", "started", "ended", *COPIED))
MISSING = (
    "INSERT INTO {intervals} (" + COLUMNS + ") " + WANTED + "SELECT " + COLUMNS + " FROM wanted w WHERE NOT EXISTS "
    # in time order, as a projection in seq order writes them: "at T" then reads neighbouring pages
    "(SELECT 1 FROM {intervals} i WHERE i.deployment_id = w.deployment_id) ORDER BY w.started, w.deployment_id"
)


def refresh_intervals(environment: str | None = None, application: str | None = None) -> int:
    """Make the intervals of one series (or of one environment, or of all) match its deployments;
    return how many rows were removed or written."""
    if environment is None:
        names = DeployedApplication.objects.order_by("environment").values_list("environment", flat=True).distinct()
        return sum(refresh_intervals(name) for name in list(names))
    params = [environment] if application is None else [environment, application]
    scope = "{t}.environment = %s" + ("" if application is None else " AND {t}.application = %s")
    intervals = RunningInterval._meta.db_table
    names = {
        "deployments": Deployment._meta.db_table,
        "intervals": intervals,
        "scope_d": scope.format(t="d"),
        "scope_i": scope.format(t=intervals),
        "live": ", ".join(f"'{o}'" for o in LIVE_OUTCOMES),  # constants, not input
        "same": "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS",  # null-safe equality
    }
    written = 0
    with connection.cursor() as cursor:
        cursor.execute(STALE.format(**names), params + params)
        written += max(cursor.rowcount, 0)
        cursor.execute(MISSING.format(**names), params)
        written += max(cursor.rowcount, 0)
    return written


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
