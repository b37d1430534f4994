"""What was running in an environment at a time, and how two such states differ.

For each application ever deployed to the environment, the running deployment at T is the
latest one that finished at or before T and took effect (succeeded, degraded or rolled back; a
failed sync leaves the previous one running). One index probe per application on
(environment, application, finished_at).

`at` accepts an ISO 8601 time (`2026-03-01T12:00Z`, a date means its midnight UTC, no zone means
UTC), `now`, `N <unit>s ago` (seconds ... weeks), and `~N`: the state right after the N-th
deployment back in that environment (`~0` is the latest), as Kosli's `prod~N`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Q, Subquery

from evidence.models import DeployedApplication, Deployment, DeploymentGap, WorkloadSnapshot
from evidence.models.deployments import LIVE_OUTCOMES

RELATIVE = re.compile(r"^(\d+)\s*(second|minute|hour|day|week)s?\s+ago$")
BACK = re.compile(r"^~(\d+)$")
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


class BadTime(ValueError):
    """`at` cannot be read; the message says what was given and what is accepted."""


@dataclass
class RunningApp:
    application: str
    revision: str
    digests: list[str]
    since: datetime | None
    deployed_at: datetime | None
    outcome: str
    controller: str
    deployment: int
    entry_seqs: list[int]
    observed_digests: list[str] | None = None  # from the latest pods snapshot at or before T
    observed_at: datetime | None = None
    drift: bool | None = None  # None: nothing to compare (no snapshot, or no digests named)
    gap: bool = False  # history rolled over unseen around this deployment


@dataclass
class RunningState:
    environment: str
    at: datetime
    applications: list[RunningApp] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "at": self.at.isoformat(),
            "applications": [_app_dict(a) for a in self.applications],
        }


def _app_dict(app: RunningApp) -> dict[str, Any]:
    out = asdict(app)
    for key in ("since", "deployed_at", "observed_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out


def parse_at(text: str | None, environment: str, now: datetime | None = None) -> datetime:
    """Read `at` (see module doc); raise BadTime with a message."""
    now = now or datetime.now(UTC)
    value = (text or "now").strip()
    if value.lower() == "now":
        return now
    if match := RELATIVE.match(value.lower()):
        return now - timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
    if match := BACK.match(value):
        n = int(match.group(1))
        live = Deployment.objects.filter(environment=environment, finished_at__isnull=False, outcome__in=LIVE_OUTCOMES)
        found = live.order_by("-finished_at", "-id").values_list("finished_at", flat=True)[n : n + 1]
        if not found:
            raise BadTime(f"at {value!r}: environment {environment!r} has only {live.count()} deployments")
        return found[0]
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadTime(
            f"at {value!r}: expected an ISO 8601 time (2026-03-01T12:00Z), 'now', 'N days ago' or '~N'"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def running_at(environment: str, at: datetime) -> RunningState:
    """Per application, the deployment running in environment at `at`."""
    latest = (
        Deployment.objects.filter(
            environment=environment,
            application=OuterRef("application"),
            finished_at__lte=at,
            outcome__in=LIVE_OUTCOMES,
        )
        .order_by("-finished_at", "-id")
        .values("id")[:1]
    )
    ids = [
        i
        for i in DeployedApplication.objects.filter(environment=environment, first_finished_at__lte=at)
        .annotate(deployment=Subquery(latest))
        .values_list("deployment", flat=True)
        if i is not None
    ]
    rows = list(Deployment.objects.filter(id__in=ids).order_by("application"))
    state = RunningState(environment, at)
    snapshots = _snapshots(environment, at)
    gaps = _gaps(environment, at)
    for row in rows:
        app = RunningApp(
            application=row.application,
            revision=row.revision,
            digests=list(row.image_digests),
            since=row.running_since or row.finished_at,
            deployed_at=row.finished_at,
            outcome=row.outcome,
            controller=row.controller,
            deployment=row.pk,
            entry_seqs=list(row.entry_seqs),
            gap=row.application in gaps,
        )
        snapshot = snapshots.get(row.application)
        if snapshot is not None and row.finished_at and snapshot.observed_at >= row.finished_at:
            app.observed_digests, app.observed_at = list(snapshot.digests), snapshot.observed_at
            app.drift = bool(row.image_digests) and set(snapshot.digests) != set(row.image_digests)
            app.entry_seqs = sorted({*app.entry_seqs, snapshot.entry_seq})
        state.applications.append(app)
    return state


def _snapshots(environment: str, at: datetime) -> dict[str, WorkloadSnapshot]:
    latest: dict[str, WorkloadSnapshot] = {}
    rows = WorkloadSnapshot.objects.filter(environment=environment, observed_at__lte=at).order_by("observed_at", "id")
    for row in rows.filter(observed_at__gte=at - timedelta(days=2)):  # a snapshot older than that proves little
        latest[row.application] = row
    return latest


def _gaps(environment: str, at: datetime) -> set[str]:
    """Applications whose history has an unseen stretch around T."""
    rows = DeploymentGap.objects.filter(environment=environment, after__lte=at)
    rows = rows.filter(Q(before__gte=at) | Q(before__isnull=True))
    return set(rows.values_list("application", flat=True))


def diff_running(before: RunningState, after: RunningState) -> dict[str, Any]:
    """Applications added, removed and changed (revision or digests) from one state to another."""
    old = {a.application: a for a in before.applications}
    new = {a.application: a for a in after.applications}
    changed = []
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        if a.revision != b.revision or set(a.digests) != set(b.digests):
            changed.append(
                {
                    "application": name,
                    "from": {"revision": a.revision, "digests": a.digests, "deployment": a.deployment},
                    "to": {"revision": b.revision, "digests": b.digests, "deployment": b.deployment},
                    "digests_added": sorted(set(b.digests) - set(a.digests)),
                    "digests_removed": sorted(set(a.digests) - set(b.digests)),
                }
            )
    return {
        "from": {"environment": before.environment, "at": before.at.isoformat()},
        "to": {"environment": after.environment, "at": after.at.isoformat()},
        "added": [_app_dict(new[n]) for n in sorted(new.keys() - old.keys())],
        "removed": [_app_dict(old[n]) for n in sorted(old.keys() - new.keys())],
        "changed": changed,
        "unchanged": len(old.keys() & new.keys()) - len(changed),
    }
