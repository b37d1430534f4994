"""What was running in an environment at a time, and how two such states differ.

For each application ever deployed to the environment, the running deployment at T is the one
whose running interval (`RunningInterval`: from its finish until the next live deployment's)
holds T. On PostgreSQL one GiST index scan finds them all; elsewhere one probe per application.

Query forms, as Kosli users write them (`parse_query`, `parse_at`):

- `prod`, `prod@{<time>}`, `prod#N` (the N-th snapshot since the first, `#1` the first),
  `prod~N` (N deployments ago, `~0` the latest);
- a time: ISO 8601 (`2026-03-01T12:00Z`; a date means its midnight UTC, no zone means UTC),
  `now`, `today`, `yesterday` (24 hours ago), `N <unit>s ago` or `N.<unit>s.ago` (seconds ...
  weeks, months, years: calendar months and years).

A snapshot is the state right after one deployment took effect. An environment nobody deployed
to is `UnknownEnvironment` (the API's 404), which lists the known ones.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.utils.dateparse import parse_datetime

from evidence.compliance.drift import DRIFT, MATCH, UNKNOWN, judge_snapshot, overall
from evidence.core.times import parse_time
from evidence.readmodels.models import (
    DeployedApplication,
    DeploymentContainer,
    DeploymentGap,
    RunningInterval,
    WorkloadSnapshot,
)
from evidence.readmodels.projectors.deployments import image_digest

RELATIVE = re.compile(r"^(\d{1,12})[\s.]*(second|minute|hour|day|week|month|year)s?[\s.]+ago$")
BACK = re.compile(r"^~(\d+)$")
NUMBERED = re.compile(r"^#(\d+)$")
QUERY = re.compile(r"^(?P<env>[^@#~\s]+)(?:@\{(?P<at>[^{}]*)\}|(?P<ref>[#~]\d+))$")
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
MAX_BACK = 10**9  # beyond any environment's history; bigger numbers are refused before the database
FORMS = "an ISO 8601 time (2026-03-01T12:00Z), 'now', 'yesterday', '3 weeks ago', '2.months.ago', '~N' or '#N'"


class BadTime(ValueError):
    """`at` cannot be read; the message says what was given and what is accepted."""


class UnknownEnvironment(LookupError):
    """Nothing was ever deployed to this environment; the message lists the ones known."""

    def __init__(self, environment: str, known: list[str]) -> None:
        self.environment, self.known = environment, known
        names = ", ".join(known) if known else "none yet"
        super().__init__(f"unknown environment {environment!r}; known environments: {names}")


def known_environments() -> list[str]:
    names = DeployedApplication.objects.order_by("environment").values_list("environment", flat=True).distinct()
    return list(names)


def check_environment(environment: str) -> str:
    """The environment, if anything was ever deployed there; else UnknownEnvironment."""
    if not DeployedApplication.objects.filter(environment=environment).exists():
        raise UnknownEnvironment(environment, known_environments())
    return environment


def parse_query(text: str) -> tuple[str, str | None]:
    """`prod@{yesterday}` -> ("prod", "yesterday"); `prod#3` -> ("prod", "#3"); `prod` -> ("prod", None)."""
    value = text.strip()
    match = QUERY.match(value)
    if match is None:
        if re.search(r"[@#~{}]", value):
            raise BadTime(f"{value!r}: expected ENV, ENV@{{TIME}}, ENV#N or ENV~N (e.g. prod@{{3.weeks.ago}})")
        return value, None
    return match.group("env"), match.group("at") if match.group("at") is not None else match.group("ref")


def resolve(query: str, at: str | None = None, now: datetime | None = None) -> tuple[str, datetime]:
    """An environment query (any form of `parse_query`) and an optional separate `at`, checked:
    BadTime for a form that cannot be read, UnknownEnvironment for an environment never deployed to."""
    if not query.strip():
        raise BadTime("an environment is required")
    environment, stated = parse_query(query)
    if stated is not None and at not in (None, ""):
        raise BadTime(f"{query!r} already says when; leave out 'at' ({at!r})")
    text = stated if stated is not None else at
    if BACK.match((text or "").strip()) or NUMBERED.match((text or "").strip()):
        return check_environment(environment), parse_at(text, environment, now)
    moment = parse_at(text, environment, now)  # a form that cannot be read is said before the environment
    return check_environment(environment), moment


@dataclass(slots=True)  # no __dict__: one object less per application for the collector to follow
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
    observed_containers: dict[str, list[str]] | None = None  # container name -> digests its pods ran
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
    """Read a time (see module doc); raise BadTime with a message naming the form."""
    now = now or datetime.now(UTC)
    value = (text or "now").strip()
    if value.startswith("@{") and value.endswith("}"):
        value = value[2:-1].strip()
    word = value.lower()
    if word in ("now", "today", "yesterday"):
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return {"now": now, "today": midnight, "yesterday": now - timedelta(days=1)}[word]
    if match := RELATIVE.match(word):
        return _ago(value, now, int(match.group(1)), match.group(2))
    if match := BACK.match(value) or NUMBERED.match(value):
        return _snapshot(value, environment, int(match.group(1)) if len(match.group(1)) <= 12 else MAX_BACK + 1)
    try:
        parsed = parse_time(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadTime(f"at {value!r}: expected {FORMS}")
    return parsed


def _ago(value: str, now: datetime, n: int, unit: str) -> datetime:
    try:
        if unit in ("month", "year"):
            return now - relativedelta(**{f"{unit}s": n})
        return now - timedelta(seconds=n * UNITS[unit])
    except (OverflowError, ValueError):
        raise BadTime(f"at {value!r}: too far back (before the year 1)") from None


def _snapshot(value: str, environment: str, n: int) -> datetime:
    """`~N`: when the N-th latest deployment took effect; `#N`: the N-th since the first (from 1)."""
    numbered = value.startswith("#")
    if numbered and n == 0:
        raise BadTime(f"at {value!r}: snapshots are numbered from #1 (the first deployment)")
    rows = RunningInterval.objects.filter(environment=environment)
    order = ("started", "deployment_id") if numbered else ("-started", "-deployment_id")
    index = n - 1 if numbered else n
    found = list(rows.order_by(*order).values_list("started", flat=True)[index : index + 1]) if n <= MAX_BACK else []
    if not found:
        raise BadTime(f"at {value!r}: environment {environment!r} has only {rows.count()} deployments")
    return found[0]


def running_at(environment: str, at: datetime) -> RunningState:
    """Per application, the deployment running in environment at `at`: one statement reads each
    running deployment with its latest pods snapshot, its containers and whether a gap is near."""
    with _collector_paused():
        return _running_at(environment, at)


def _running_at(environment: str, at: datetime) -> RunningState:
    state = RunningState(environment, at)
    add = state.applications.append
    for (
        pk,
        application,
        revision,
        digests,
        since,
        finished,
        outcome,
        controller,
        seqs,
        observed_at,
        images,
        observed,
        snapshot_seq,
        containers,
        gap,
    ) in _running_rows(environment, at):
        digests, seqs, took_effect = _json(digests), _json(seqs), _time(finished)
        app = RunningApp(
            application,
            revision,
            digests,
            took_effect if since == finished else _time(since) or took_effect,
            took_effect,
            outcome,
            controller,
            pk,
            seqs,
            gap=bool(gap),
        )
        if observed_at is not None:  # the latest snapshot of the application taken after it took effect
            images = _json(images)
            app.observed_digests, app.observed_at = list(_json(observed)), _time(observed_at)
            app.observed_containers = _containers_of(images)
            verdicts = judge_snapshot(images, _by_name(containers), set(digests), image_digest)
            app.drift_state = overall(verdicts)
            if app.drift_state == DRIFT and app.gap:
                app.drift_state = UNKNOWN  # an unseen deployment may have produced it: a gap, not drift
            app.drift = {DRIFT: True, MATCH: False}.get(app.drift_state)
            app.containers = [v.as_json() for v in verdicts]
            app.entry_seqs = sorted({*seqs, snapshot_seq})
        add(app)
    return state


# The interval holding T, per application of the environment (its columns copied from the deployment).
ANSWER = (
    "i.deployment_id, i.application, i.revision, i.image_digests, i.running_since, i.started, i.outcome, "
    "i.controller, i.entry_seqs"
)
RUNNING_SQL = {
    # One scan of the GiST index on (environment, [started, ended)) (migration readmodels 0004).
    # Times and JSON come back as text: Python's C parsers read them faster than the driver's loaders.
    "postgresql": (
        "SELECT i.deployment_id, i.application, i.revision, i.image_digests::text, i.running_since::text, "
        "i.started::text, i.outcome, i.controller, i.entry_seqs::text FROM {intervals} i "
        "WHERE i.environment = %(env)s AND tstzrange(i.started, i.ended, '[)') @> %(at)s::timestamptz "
        "ORDER BY i.application"
    ),
    # Elsewhere: per application, the latest interval started by T (index running_env_app_started).
    "default": (
        f"SELECT {ANSWER} FROM {{intervals}} i WHERE i.id IN (SELECT (SELECT x.id FROM {{intervals}} x "
        "WHERE x.environment = a.environment AND x.application = a.application AND x.started <= %(at)s "
        "ORDER BY x.started DESC, x.deployment_id DESC LIMIT 1) FROM {apps} a WHERE a.environment = %(env)s) "
        "ORDER BY i.application"
    ),
}
# The same rows, each with what the answer needs beside it, in the same round trip: the latest pods
# snapshot taken after the deployment took effect and by T (snapshots are recorded on change, so
# the latest still stands for what ran; index workload_env_app_seen), the deployment's containers
# (name, digest) where there is a snapshot to judge, and whether a gap of the application's
# history holds T (index deploy_gap_env_app).
SIDES_SQL = {
    "postgresql": (
        "SELECT r.*, s.observed_at::text, s.images::text, s.digests::text, s.entry_seq, "
        "CASE WHEN s.id IS NOT NULL THEN (SELECT json_agg(json_build_array(c.container, c.digest))::text "
        "FROM {containers} c WHERE c.deployment_id = r.deployment_id) END, "
        "EXISTS (SELECT 1 FROM {gaps} g WHERE g.environment = %(env)s AND g.application = r.application "
        'AND g."after" <= %(at)s::timestamptz AND (g."before" >= %(at)s::timestamptz OR g."before" IS NULL)) '
        "FROM ({running}) r LEFT JOIN LATERAL (SELECT x.id, x.observed_at, x.images, x.digests, x.entry_seq "
        "FROM {snapshots} x WHERE x.environment = %(env)s AND x.application = r.application "
        "AND x.observed_at >= r.started::timestamptz AND x.observed_at <= %(at)s::timestamptz "
        "ORDER BY x.observed_at DESC, x.id DESC LIMIT 1) s ON true ORDER BY r.application"
    ),
    "default": (
        "SELECT r.*, s.observed_at, s.images, s.digests, s.entry_seq, "
        "CASE WHEN s.id IS NOT NULL THEN (SELECT json_group_array(json_array(c.container, c.digest)) "
        "FROM {containers} c WHERE c.deployment_id = r.deployment_id) END, "
        "EXISTS (SELECT 1 FROM {gaps} g WHERE g.environment = %(env)s AND g.application = r.application "
        'AND g."after" <= %(at)s AND (g."before" >= %(at)s OR g."before" IS NULL)) '
        "FROM ({running}) r LEFT JOIN {snapshots} s ON s.id = (SELECT x.id FROM {snapshots} x "
        "WHERE x.environment = %(env)s AND x.application = r.application AND x.observed_at >= r.started "
        "AND x.observed_at <= %(at)s ORDER BY x.observed_at DESC, x.id DESC LIMIT 1) ORDER BY r.application"
    ),
}


def _running_rows(environment: str, at: datetime) -> list[tuple[Any, ...]]:
    """Raw rows: the answer's columns, then the snapshot's (observed_at, images, digests, entry_seq,
    or NULLs), the containers as JSON [[name, digest], ...] (NULL without a snapshot) and the gap."""
    vendor = connection.vendor if connection.vendor in RUNNING_SQL else "default"
    running = RUNNING_SQL[vendor].format(
        apps=DeployedApplication._meta.db_table, intervals=RunningInterval._meta.db_table
    )
    sql = SIDES_SQL[vendor].format(
        running=running.replace(" ORDER BY i.application", ""),
        containers=DeploymentContainer._meta.db_table,
        gaps=DeploymentGap._meta.db_table,
        snapshots=WorkloadSnapshot._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"env": environment, "at": connection.ops.adapt_datetimefield_value(at)})
        return cursor.fetchall()  # all at once: the driver makes the tuples faster than row by row


_SCAN = json.JSONDecoder().scan_once  # the C scanner: one call per value, without json.loads' layers


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while an answer is built, then restore it as it was.

    An answer is a few thousand small objects without cycles: reference counting frees them. Built
    with the collector on, every 700 of them set off a collection of the young objects, whose
    survivors soon bring on a full collection of the whole heap (with Django loaded, ~100 ms on a
    busy two-core machine): measured at 1,000,000 deployments, a third of a diff's time and all
    of its p95. Deferred, the collector runs once after the answer instead."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            found, end = _SCAN(value, 0)
        except StopIteration:  # not a value where the text starts (whitespace first): the full reader
            return json.loads(value)
        return found if end == len(value) else json.loads(value)
    return json.loads(value) if isinstance(value, bytes) else value


def _time(value: Any) -> datetime | None:
    """Raw rows: PostgreSQL gives aware datetimes; SQLite gives naive UTC ones (or text)."""
    if value is None:
        return None
    if isinstance(value, str):  # the common case, PostgreSQL's text form with its offset: read at once
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment
    # PostgreSQL's text form, '2026-03-01 12:00:00+00', is ISO 8601; parse_datetime reads the rest
    parsed = parse_time(value, lenient=True) or parse_datetime(str(value))
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _by_name(containers: Any) -> dict[str, set[str]]:
    """Container name -> the digests it resolved to ("" where it did not), from [[name, digest], ...]."""
    out: dict[str, set[str]] = {}
    for name, digest in _json(containers) or ():
        out.setdefault(name, set()).add(digest)
    return out


def containers_of(snapshot: WorkloadSnapshot) -> dict[str, list[str]]:
    """Per container name, the digests its pods ran (one per pod when a rollout is half done)."""
    return _containers_of(snapshot.images)


def _containers_of(images: Any) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    for item in images:
        if isinstance(item, dict) and (digest := image_digest(item.get("imageID"))):
            found.setdefault(str(item.get("name") or item.get("image") or "?"), set()).add(digest)
    return {name: sorted(digests) for name, digests in sorted(found.items())}


def _container_changes(a: RunningApp, b: RunningApp) -> list[dict[str, Any]]:
    """Containers whose pods ran other digests on the two sides (nothing when a side saw no pods)."""
    if a.observed_containers is None or b.observed_containers is None:
        return []
    names = sorted(a.observed_containers.keys() | b.observed_containers.keys())
    return [
        {"container": name, "from": a.observed_containers.get(name, []), "to": b.observed_containers.get(name, [])}
        for name in names
        if a.observed_containers.get(name, []) != b.observed_containers.get(name, [])
    ]


def _side(app: RunningApp) -> dict[str, Any]:
    return {
        "revision": app.revision,
        "digests": app.digests,
        "deployment": app.deployment,
        "observed_digests": app.observed_digests,
        "observed_containers": app.observed_containers,
    }


def diff_running(before: RunningState, after: RunningState) -> dict[str, Any]:
    """Applications added, removed and changed from one state to another: changed when the controller
    named another revision or digests, or when the pods ran other digests in any container."""
    with _collector_paused():
        return _diff_running(before, after)


def _diff_running(before: RunningState, after: RunningState) -> dict[str, Any]:
    old = {a.application: a for a in before.applications}
    new = {a.application: a for a in after.applications}
    changed = []
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        containers = _container_changes(a, b)
        if a.revision == b.revision and a.digests == b.digests and not containers:
            continue  # the same at a glance, without building sets
        digests_a, digests_b = set(a.digests), set(b.digests)
        if a.revision != b.revision or digests_a != digests_b or containers:
            changed.append(
                {
                    "application": name,
                    "from": _side(a),
                    "to": _side(b),
                    "digests_added": sorted(digests_b - digests_a),
                    "digests_removed": sorted(digests_a - digests_b),
                    "containers": containers,
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
