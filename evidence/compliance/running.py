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

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from evidence.compliance.drift import DRIFT, MATCH, UNKNOWN, judge_snapshot, overall
from evidence.core.times import parse_time
from evidence.readmodels.models import (
    DeployedApplication,
    Deployment,
    DeploymentContainer,
    DeploymentGap,
    WorkloadSnapshot,
)
from evidence.readmodels.models.deployments import LIVE_OUTCOMES
from evidence.readmodels.projectors.deployments import image_digest

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
    drift: bool | None = None  # None: unknown (no snapshot, no digest known, or a history gap)
    gap: bool = False  # history rolled over unseen around this deployment
    drift_state: str = UNKNOWN  # match, drift or unknown (evidence.compliance.drift)
    containers: list[dict[str, Any]] = field(default_factory=list)  # each running container, judged


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
        parsed = parse_time(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadTime(f"at {value!r}: expected an ISO 8601 time (2026-03-01T12:00Z), 'now', 'N days ago' or '~N'")
    return parsed


def running_at(environment: str, at: datetime) -> RunningState:
    """Per application, the deployment running in environment at `at`."""
    rows = _running_rows(environment, at)
    state = RunningState(environment, at)
    snapshots = _snapshots(environment, at, min((r[5] for r in rows if r[5]), default=None))
    gaps = _gaps(environment, at)
    by_name = _containers([r[0] for r in rows])
    for pk, application, revision, digests, since, finished, outcome, controller, seqs in rows:
        app = RunningApp(
            application=application,
            revision=revision,
            digests=digests,
            since=since or finished,
            deployed_at=finished,
            outcome=outcome,
            controller=controller,
            deployment=pk,
            entry_seqs=seqs,
            gap=application in gaps,
        )
        snapshot = snapshots.get(application)
        if snapshot is not None and finished and snapshot.observed_at >= finished:
            app.observed_digests, app.observed_at = list(snapshot.digests), snapshot.observed_at
            verdicts = judge_snapshot(snapshot.images, by_name.get(pk, {}), set(digests), image_digest)
            app.drift_state = overall(verdicts)
            if app.drift_state == DRIFT and app.gap:
                app.drift_state = UNKNOWN  # an unseen deployment may have produced it: a gap, not drift
            app.drift = {DRIFT: True, MATCH: False}.get(app.drift_state)
            app.containers = [v.as_json() for v in verdicts]
            app.entry_seqs = sorted({*seqs, snapshot.entry_seq})
        state.applications.append(app)
    return state


# For each application of the environment, the latest deployment that took effect by T: one probe
# of the (environment, application, finished_at) index each. LATERAL where the database has it.
RUNNING_SQL = {
    # Times and JSON come back as text: Python's C parsers read them faster than the driver's loaders.
    "postgresql": (
        "SELECT d.id, d.application, d.revision, d.image_digests::text, d.running_since::text, d.finished_at::text, "
        "d.outcome, d.controller, d.entry_seqs::text FROM {apps} a CROSS JOIN LATERAL ("
        "SELECT id, application, revision, image_digests, running_since, finished_at, outcome, controller, "
        "entry_seqs FROM {deployments} x WHERE x.environment = a.environment AND x.application = a.application "
        "AND x.finished_at <= %s AND x.outcome IN ({live}) ORDER BY x.finished_at DESC, x.id DESC LIMIT 1) d "
        "WHERE a.environment = %s AND a.first_finished_at <= %s ORDER BY d.application"
    ),
    "default": (
        "SELECT d.id, d.application, d.revision, d.image_digests, d.running_since, d.finished_at, d.outcome, "
        "d.controller, d.entry_seqs FROM {deployments} d WHERE d.id IN (SELECT (SELECT x.id FROM {deployments} x "
        "WHERE x.environment = a.environment AND x.application = a.application AND x.finished_at <= %s "
        "AND x.outcome IN ({live}) ORDER BY x.finished_at DESC, x.id DESC LIMIT 1) FROM {apps} a "
        "WHERE a.environment = %s AND a.first_finished_at <= %s) ORDER BY d.application"
    ),
}


def _running_rows(environment: str, at: datetime) -> list[tuple[Any, ...]]:
    sql = RUNNING_SQL.get(connection.vendor, RUNNING_SQL["default"]).format(
        apps=DeployedApplication._meta.db_table,
        deployments=Deployment._meta.db_table,
        live=", ".join(f"'{o}'" for o in LIVE_OUTCOMES),  # constants, not input
    )
    when = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [when, environment, when])
        raw = cursor.fetchall()
    return [
        (pk, app, rev, _json(digests), _time(since), _time(finished), outcome, controller, _json(seqs))
        for pk, app, rev, digests, since, finished, outcome, controller, seqs in raw
    ]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _time(value: Any) -> datetime | None:
    """Raw rows: PostgreSQL gives aware datetimes; SQLite gives naive UTC ones (or text)."""
    if value is None:
        return None
    # PostgreSQL's text form, '2026-03-01 12:00:00+00', is ISO 8601; parse_datetime reads the rest
    parsed = parse_time(value, lenient=True) or parse_datetime(str(value))
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _snapshots(environment: str, at: datetime, since: datetime | None) -> dict[str, WorkloadSnapshot]:
    """The latest pods snapshot per application taken after its deployment and by T (snapshots are
    recorded on change, so the latest one still stands for what ran)."""
    latest: dict[str, WorkloadSnapshot] = {}
    if since is None:
        return latest
    rows = WorkloadSnapshot.objects.filter(environment=environment, observed_at__gte=since, observed_at__lte=at)
    for row in rows.order_by("observed_at", "id"):
        latest[row.application] = row
    return latest


def _containers(ids: list[int]) -> dict[int, dict[str, set[str]]]:
    """Per deployment, container name -> the digests it resolved to ("" where it did not)."""
    out: dict[int, dict[str, set[str]]] = {}
    rows = DeploymentContainer.objects.filter(deployment_id__in=ids).values_list("deployment_id", "container", "digest")
    for pk, name, digest in rows:
        out.setdefault(pk, {}).setdefault(name, set()).add(digest)
    return out


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
