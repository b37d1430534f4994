"""Running-at benchmark: the project's query beside a hand-written single SQL query, same run.

    python bench/running.py                        # 100,000 deployments, SQLite and PostgreSQL
    python bench/running.py --deployments 1000000  # the issue's figure (target p95 < 20 ms)
    python bench/running.py --only postgresql
    python bench/running.py --deployments 1000000 --only postgresql --keep  # reuse the filled database

Deployments are spread over 500 applications in 10 environments across a year (mostly
succeeded, some failed or degraded); their running intervals are then derived by the projector's
own function. Figures: p50/p95 of `running_at(environment, T)` over 200 random (environment, T),
beside one hand-written SQL query over the deployments answering the same question (LATERAL on
PostgreSQL, a correlated subquery on SQLite), and p95 of the diff of two times (two answers and
their comparison). Each answer is checked against the raw one. PostgreSQL runs use their own
database, dropped and re-created, or with `--keep` reused when a previous run filled it with the
same number of deployments (then the fill and derive figures are null).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pgdb import filled_before, mark_filled, recreate_database  # bench/ is sys.path[0] when a bench runs as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/ledger_bench_running")
ENVIRONMENTS = [f"env{i}" for i in range(10)]
APPLICATIONS = [f"app{i:03d}" for i in range(500)]
START = datetime(2025, 3, 1, tzinfo=UTC)
YEAR = 365 * 86400
LIVE = ("succeeded", "degraded", "rolled_back")
# The same columns the project's answer carries, so both sides fetch the same data.
COLUMNS = (
    "d.id, d.application, d.revision, d.image_digests, d.running_since, d.finished_at, d.outcome, d.controller, "
    "d.entry_seqs"
)
FILLED = "bench_running_filled"  # a table naming the size a finished fill wrote, for --keep


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devkit.settings")
    import django

    django.setup()


def fill(total: int, seed: int = 7) -> float:
    """Insert `total` deployments and the per-application index rows; return seconds taken. (Their
    running intervals come after, through the projector's own function: see `derive`.)"""
    from django.db import connection, transaction

    from evidence.readmodels.models import DeployedApplication, Deployment

    rng = random.Random(seed)
    series = [(e, a) for e in ENVIRONMENTS for a in APPLICATIONS]
    per_series, extra = divmod(total, len(series))
    table = Deployment._meta.db_table
    columns = (
        "identity, controller, source, subject, environment, application, external_id, revision, image_refs, "
        "image_digests, started_at, finished_at, running_since, outcome, phase, health, initiated_by, automated, "
        "message, entry_seqs, first_seq"
    )
    marks = ", ".join(["%s"] * 21)
    postgres = connection.vendor == "postgresql"
    adapt = (lambda t: t) if postgres else connection.ops.adapt_datetimefield_value
    started = time.perf_counter()
    seq = 0
    firsts = []

    def flush(cursor, rows: list[tuple]) -> None:
        if postgres:  # COPY: the fast way in, so the 1,000,000-row run fills in reasonable time
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

    with transaction.atomic(), connection.cursor() as cursor:
        batch: list[tuple] = []
        for index, (env, app) in enumerate(series):
            count = per_series + (1 if index < extra else 0)
            times = sorted(rng.randrange(YEAR) for _ in range(count))
            firsts.append((env, app, START + timedelta(seconds=times[0]) if times else None))
            for n, offset in enumerate(times):
                finished = START + timedelta(seconds=offset)
                outcome = rng.choices(["succeeded", "failed", "degraded"], [95, 3, 2])[0]
                revision = f"{rng.getrandbits(160):040x}"
                digests = json.dumps([f"sha256:{rng.getrandbits(256):064x}"])
                seq += 1
                batch.append(
                    (
                        f"bench:{env}:{app}:{n}",
                        "argocd",
                        "bench",
                        f"argocd:{app}",
                        env,
                        app,
                        str(n),
                        revision,
                        "[]",
                        digests,
                        adapt(finished - timedelta(seconds=30)),
                        adapt(finished),
                        adapt(finished),
                        outcome,
                        "Succeeded",
                        "Healthy",
                        "automation",
                        True,
                        "",
                        json.dumps([seq]),
                        seq,
                    )
                )
                if len(batch) >= 10_000:
                    flush(cursor, batch)
                    batch = []
        if batch:
            flush(cursor, batch)
        DeployedApplication.objects.bulk_create(
            [DeployedApplication(environment=e, application=a, first_finished_at=f) for e, a, f in firsts if f]
        )
    return time.perf_counter() - started


def derive() -> float:
    """Derive the running intervals as the projector does (`refresh_intervals`), then ANALYZE."""
    from django.db import connection, transaction

    from evidence.readmodels.projectors.deployments.intervals import refresh_intervals

    started = time.perf_counter()
    with transaction.atomic():
        refresh_intervals()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def raw_running(env: str, at: datetime) -> list[tuple]:
    """The baseline: one hand-written SQL statement for the same answer."""
    from django.db import connection

    outcomes = ", ".join(f"'{o}'" for o in LIVE)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT {COLUMNS} FROM evidence_deployedapplication a "
            f"CROSS JOIN LATERAL (SELECT {COLUMNS.replace('d.', '')} FROM evidence_deployment x "
            "WHERE x.environment = a.environment AND x.application = a.application AND x.finished_at <= %s "
            f"AND x.outcome IN ({outcomes}) ORDER BY x.finished_at DESC, x.id DESC LIMIT 1) d "
            "WHERE a.environment = %s AND a.first_finished_at <= %s ORDER BY d.application"
        )
    else:
        sql = (
            f"SELECT {COLUMNS} FROM evidence_deployment d WHERE d.id IN ("
            "SELECT (SELECT x.id FROM evidence_deployment x WHERE x.environment = a.environment "
            "AND x.application = a.application AND x.finished_at <= %s "
            f"AND x.outcome IN ({outcomes}) ORDER BY x.finished_at DESC, x.id DESC LIMIT 1) "
            "FROM evidence_deployedapplication a WHERE a.environment = %s AND a.first_finished_at <= %s) "
            "ORDER BY d.application"
        )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(at), env, adapt(at)])
        return cursor.fetchall()


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - started) * 1000, result


def run(url: str, label: str, args, kept: bool = False) -> dict[str, object]:
    from django.core.management import call_command

    from evidence.compliance.running import diff_running, running_at

    call_command("migrate", verbosity=0)
    seconds: float | None = None
    deriving: float | None = None
    if not kept:
        seconds = fill(args.deployments)
        deriving = derive()
        if label == "PostgreSQL":
            mark_filled(FILLED, deployments=args.deployments)
    rng = random.Random(11)
    cases = [
        (rng.choice(ENVIRONMENTS), START + timedelta(seconds=rng.randrange(30 * 86400, YEAR)))
        for _ in range(args.queries)
    ]
    project_ms, raw_ms, diff_ms = [], [], []
    for env, at in cases[:5]:  # warm caches for both sides alike
        running_at(env, at)
        raw_running(env, at)
    for env, at in cases:
        ms, state = timed(running_at, env, at)
        project_ms.append(ms)
        ms, rows = timed(raw_running, env, at)
        raw_ms.append(ms)
        mine = [(a.deployment, a.revision) for a in state.applications]
        theirs = [(r[0], r[2]) for r in rows]
        assert mine == theirs, f"{env} at {at}: the project's answer differs from the raw query"
    for env, at in cases:
        later = at + timedelta(days=rng.randrange(1, 60))
        ms, _ = timed(lambda e=env, a=at, b=later: diff_running(running_at(e, a), running_at(e, b)))
        diff_ms.append(ms)
    apps = statistics.mean(len(raw_running(e, a)) for e, a in cases[:20])
    result = {
        "database": label,
        "deployments": args.deployments,
        "fill_seconds": None if seconds is None else round(seconds, 1),
        "intervals_seconds": None if deriving is None else round(deriving, 1),
        "applications_per_answer": round(apps),
        "running_at_p50_ms": round(statistics.median(project_ms), 2),
        "running_at_p95_ms": round(percentile(project_ms, 95), 2),
        "raw_sql_p50_ms": round(statistics.median(raw_ms), 2),
        "raw_sql_p95_ms": round(percentile(raw_ms, 95), 2),
        "diff_p95_ms": round(percentile(diff_ms, 95), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    filled = (
        "kept from a previous fill"
        if seconds is None or deriving is None
        else f"filled in {seconds:.1f}s, intervals derived in {deriving:.1f}s"
    )
    print(
        f"{label}: {args.deployments:,} deployments ({filled}), "
        f"~{apps:.0f} applications per answer\n"
        f"  running_at     p50 {result['running_at_p50_ms']:7.2f} ms   p95 {result['running_at_p95_ms']:7.2f} ms"
        f"   (target p95 < 20 ms at 1,000,000)\n"
        f"  raw SQL        p50 {result['raw_sql_p50_ms']:7.2f} ms   p95 {result['raw_sql_p95_ms']:7.2f} ms\n"
        f"  diff of 2 times                  p95 {result['diff_p95_ms']:7.2f} ms   (target p95 < 50 ms)\n"
        f"  load average (1 min) at the end: {result['load_average_1m']}"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=100_000, help="rows; the issue's figure is 1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--keep",
        action="store_true",
        help="PostgreSQL: reuse the database a previous run filled with as many deployments (else made anew)",
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    if args.only in (None, "sqlite"):
        path = Path(tempfile.mkdtemp()) / "bench-running.sqlite3"
        setup_django(f"sqlite:///{path}")
        print(json.dumps(run(f"sqlite:///{path}", "SQLite", args)))
        path.unlink()
    if args.only in (None, "postgresql"):
        kept = args.keep and filled_before(PG_URL, FILLED, deployments=args.deployments)
        if not kept and not recreate_database(PG_URL):
            return
        if args.only == "postgresql":
            setup_django(PG_URL)
            print(json.dumps(run(PG_URL, "PostgreSQL", args, kept)))
        else:  # Django is set up for SQLite in this process: measure PostgreSQL in a fresh one
            cmd = [sys.executable, __file__, "--only", "postgresql", f"--deployments={args.deployments}"]
            subprocess.run([*cmd, f"--queries={args.queries}", *(["--keep"] if args.keep else [])], check=True)


if __name__ == "__main__":
    main()
