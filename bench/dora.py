"""DORA benchmark: a year of one environment, the project's figures beside hand-written SQL.

    python bench/dora.py                                   # 100,000 deployments, 300,000 PRs (PostgreSQL)
    python bench/dora.py --deployments 10000 --pulls 30000 # smaller, quicker
    BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/ledger_bench_dora python bench/dora.py
    python bench/dora.py --keep --gates 0                  # iterating: keep the filled database, no gate

The read models are filled directly (COPY), as bench/running.py does: 20 applications in `prod`,
each with its own repository; 13 months of merged pull requests (opened 1 to 48 h before merge,
each with one approval), and deployments of every third merge commit, mostly succeeded, some
failed, a few rolled back. Measured over the last 12 months: `dora_figures` (all five metrics,
samples and weekly trend) over --runs calls, beside one hand-written SQL statement each for
deployment frequency and change lead time (median and p90), whose answers must equal ours; then
the release gate's p95 (`decide_release`, recording each decision) over --gates asks about a
compliant digest built through the ledger. Targets (issue 14): DORA under 2 s, gate p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pgdb import filled_before, mark_filled, recreate_database  # bench/ is sys.path[0] when a bench runs as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/ledger_bench_dora")
APPS = [f"app{i:02d}" for i in range(20)]
FIRST = datetime(2025, 2, 1, tzinfo=UTC)
SINCE, UNTIL = datetime(2025, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
LIVE = ("succeeded", "degraded", "rolled_back")


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    # Its own checkpoint notes: the database is new each run, notes held from an earlier one would
    # (rightly) refuse every checkpoint of this one.
    os.environ["LEDGER_CHECKPOINT_DIR"] = tempfile.mkdtemp(prefix="bench-dora-checkpoints-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devkit.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


FILLED = "bench_dora_filled"  # a table naming the sizes a finished fill wrote, for --keep


def copy(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as out:
        for row in rows:
            out.write_row(row)


def fill(deployments: int, pulls: int, seed: int = 14) -> float:
    from django.db import connection, transaction

    rng = random.Random(seed)
    span = (UNTIL - FIRST).total_seconds()
    started = time.perf_counter()
    per_app = pulls // len(APPS)
    every = max(1, pulls // deployments)
    pr_rows, approval_rows, deploy_rows = [], [], []
    pull_id = seq = 0
    for app in APPS:
        repo = f"acme/{app}"
        times = sorted(FIRST + timedelta(seconds=rng.randrange(int(span))) for _ in range(per_app))
        heads = []
        for number, merged in enumerate(times, start=1):
            pull_id += 1
            seq += 1
            opened = merged - timedelta(seconds=rng.randrange(3600, 48 * 3600))
            merge = f"{rng.getrandbits(160):040x}"
            title = f"Change {number}"
            pr_rows.append(
                (
                    "github",
                    repo,
                    number,
                    title,
                    "",
                    "alice",
                    "main",
                    "",
                    merge,
                    "",
                    merged,
                    opened,
                    "bob",
                    "[]",
                    "gh",
                    seq,
                )
            )
            pr_rows[-1] = (pull_id, *pr_rows[-1])
            approval_rows.append(
                (
                    "github", repo, number, pull_id, f"r{pull_id}", "bob", "APPROVED", "APPROVED", "[]", "",
                    opened + (merged - opened) / 2, False, "", seq,
                )
            )  # fmt: skip
            if number % every == 0:
                heads.append((merge, merged))
        previous, live_heads = None, []
        for n, (merge, merged) in enumerate(heads):
            finished = merged + timedelta(minutes=rng.randrange(10, 600))
            outcome = rng.choices(["succeeded", "failed"], [97, 3])[0]
            revision = merge
            if previous is not None and rng.random() < 0.005:
                # Back to the head before: a rollback, as the projector would derive it.
                revision, outcome = live_heads[-2] if len(live_heads) > 1 else previous, "rolled_back"
            seq += 1
            deploy_rows.append(
                (
                    f"bench:{app}:{n}", "argocd", "bench", f"argocd:{app}", "prod", app, str(n), revision, "[]", "[]",
                    finished - timedelta(seconds=30), finished, finished, outcome, "Succeeded", "Healthy", "", True,
                    "", json.dumps([seq]), seq,
                )
            )  # fmt: skip
            if outcome != "failed":
                previous = revision
                live_heads.append(revision)
    with transaction.atomic(), connection.cursor() as cursor:
        copy(
            cursor,
            "evidence_pullrequest",
            "id, forge, repository, number, title, url, author, base, head_sha, merge_commit_sha, squash_commit_sha, "
            "merged_at, opened_at, merged_by, commits, source, entry_seq",
            pr_rows,
        )
        copy(
            cursor,
            "evidence_approval",
            "forge, repository, number, pull_request_id, review_id, reviewer, state, submitted_state, history, "
            "commit_id, submitted_at, dismissed, dismissed_by, entry_seq",
            approval_rows,
        )
        copy(
            cursor,
            "evidence_deployment",
            "identity, controller, source, subject, environment, application, external_id, revision, image_refs, "
            "image_digests, started_at, finished_at, running_since, outcome, phase, health, initiated_by, automated, "
            "message, entry_seqs, first_seq",
            deploy_rows,
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('evidence_pullrequest', 'id'), %s)", [pull_id])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def project_shipped() -> float:
    """The shipped-changes read model, derived as the projector's settler does after a rebuild
    (the rows above were copied in, not projected)."""
    from django.db import connection

    from evidence.readmodels.shipping import refresh_shipped

    started = time.perf_counter()
    refresh_shipped("prod")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE readmodels_shippedchange")
    return time.perf_counter() - started


def raw_frequency() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM evidence_deployment WHERE environment = 'prod' AND outcome = ANY(%s) "
            "AND finished_at >= %s AND finished_at < %s",
            [list(LIVE), SINCE, UNTIL],
        )
        return cursor.fetchone()[0]


def raw_lead_time() -> tuple[int, int, int]:
    """(changes, median seconds, p90 seconds): each live deployment ships the PRs merged after the
    previous live deployment's head up to its own, counted once (its first deployment)."""
    from django.db import connection

    sql = """
    WITH live AS (
      SELECT d.id, d.application, d.finished_at, p.repository, p.base, p.merged_at AS head,
             LAG(p.merged_at) OVER (PARTITION BY d.application ORDER BY d.finished_at, d.id) AS before
      FROM evidence_deployment d JOIN evidence_pullrequest p ON p.merge_commit_sha = d.revision
      WHERE d.environment = 'prod' AND d.outcome = ANY(%(live)s) AND d.finished_at < %(until)s
    ), shipped AS (
      SELECT DISTINCT ON (c.id) c.id, live.finished_at, c.opened_at
      FROM live JOIN evidence_pullrequest c ON c.repository = live.repository AND c.base = live.base
           AND c.merged_at > live.before AND c.merged_at <= live.head
      ORDER BY c.id, live.finished_at
    )
    SELECT count(*),
           percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - opened_at)),
           percentile_disc(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - opened_at))
    FROM shipped WHERE finished_at >= %(since)s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"live": list(LIVE), "since": SINCE, "until": UNTIL})
        count, median, p90 = cursor.fetchone()
        return count, int(median), int(p90)


def gate_story() -> str:
    from tests.support.custody_story import Story, prod_policy

    story = Story("gate").clean(skip={"deploy"})
    story.append()
    prod_policy()
    return story.image


def timed(fn, *args, **kw) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kw)
    return time.perf_counter() - started, result


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=100_000)
    parser.add_argument("--pulls", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gates", type=int, default=200, help="gate asks; 0 skips the gate stage")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the database a previous run filled with the same sizes (else it is made anew)",
    )
    parser.add_argument("--dump", type=Path, help="write the last report's JSON (with its samples) to this file")
    args = parser.parse_args()
    kept = args.keep and filled_before(PG_URL, FILLED, deployments=args.deployments, pulls=args.pulls)
    if not kept and not recreate_database(PG_URL):
        return
    setup_django(PG_URL)
    from evidence.compliance.dora import dora_figures
    from evidence.compliance.gate import ALLOW, decide_release, judge_release

    if kept:
        projected = None
        print(f"kept the database filled before with {args.deployments:,} deployments, {args.pulls:,} pull requests")
    else:
        seconds = fill(args.deployments, args.pulls)
        sizes = f"{args.deployments:,} deployments and {args.pulls:,} pull requests"
        print(f"filled {sizes} in {seconds:.1f} s (PostgreSQL)")
        projected = project_shipped()
        print(f"derived the changes each deployment shipped (read model) in {projected:.1f} s")
        mark_filled(FILLED, deployments=args.deployments, pulls=args.pulls)
    ours, raw_df, raw_lt = [], [], []
    for _ in range(args.runs):
        elapsed, report = timed(dora_figures, "prod", SINCE, UNTIL, bucket="week")
        ours.append(elapsed)
        elapsed, frequency = timed(raw_frequency)
        raw_df.append(elapsed)
        elapsed, lead = timed(raw_lead_time)
        raw_lt.append(elapsed)
    figures = report.figures
    if args.dump:
        args.dump.write_text(json.dumps(report.as_json()))
    assert figures["deployment_frequency"].extra["deployments"] == frequency, (
        figures["deployment_frequency"],
        frequency,
    )
    count, median, p90 = lead
    mine = figures["change_lead_time"]
    assert (mine.samples, mine.extra["median"], mine.extra["p90"]) == (
        count,
        f"{median / 3600:.2f}",
        f"{p90 / 3600:.2f}",
    ), (mine.samples, mine.extra, lead)
    print(
        f"dora_figures, 5 metrics + weekly trend + {len(report.samples):,} samples: "
        f"median {statistics.median(ours):.2f} s over {args.runs} runs (target < 2 s)"
    )
    print(
        f"  raw SQL deployment frequency: median {statistics.median(raw_df) * 1000:.1f} ms ({frequency:,} deployments)"
    )
    print(f"  raw SQL lead time (median, p90): median {statistics.median(raw_lt):.2f} s ({count:,} changes)")
    for name in ("deployment_frequency", "change_lead_time", "change_fail_rate", "recovery_time", "rework_rate"):
        figure = figures[name]
        print(f"  {name:<22} {figure.value} {figure.unit} [{figure.band}] ({figure.samples:,} samples)")

    gates: dict[str, float | None] = {"judge_release": None, "decide_release": None}
    image = gate_story() if args.gates else ""
    for label, ask in (
        ("judged only (judge_release)", judge_release),
        ("decision recorded (decide_release)", decide_release),
    ):
        if not args.gates:
            break
        times = []
        for i in range(args.gates):
            elapsed, decision = timed(ask, "prod", digest=image, asked_by=f"bench-{i}")
            assert decision.answer == ALLOW, decision.reasons
            times.append(elapsed * 1000)
        print(
            f"gate, {label}: p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms "
            f"over {args.gates} asks (target p95 < 50 ms)"
        )
        gates[ask.__name__] = round(percentile(times, 95), 2)
    summary = {
        "database": "postgresql",
        "deployments": args.deployments,
        "pulls": args.pulls,
        "dora_median_s": round(statistics.median(ours), 3),
        "raw_frequency_ms": round(statistics.median(raw_df) * 1000, 1),
        "raw_lead_time_s": round(statistics.median(raw_lt), 3),
        "samples": len(report.samples),
        "shipped_projection_s": None if projected is None else round(projected, 1),
        "judge_p95_ms": gates["judge_release"],
        "decide_p95_ms": gates["decide_release"],
        "target": "met" if statistics.median(ours) < 2 else "NOT met",
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
