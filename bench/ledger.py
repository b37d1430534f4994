"""Ledger benchmark: each figure printed beside a raw baseline measured in the same run.

    python bench/ledger.py                       # SQLite (temp file) and, if reachable, PostgreSQL
    python bench/ledger.py --entries 1000000     # the issue's full-size verify/proof figures
    BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/ledger_bench python bench/ledger.py

PostgreSQL runs use their own database (dropped and re-created), never the application's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pgdb import recreate_database  # bench/ is sys.path[0] when a bench runs as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/ledger_bench")


def setup_django(database_url: str, eager: bool) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devkit.settings")
    os.environ.setdefault("LEDGER_SIGNING_KEY", str(Path(tempfile.gettempdir()) / "bench-ledger.key"))
    # The database is made anew each run, so its checkpoints are too: never the project's var/checkpoints.
    os.environ["LEDGER_CHECKPOINT_DIR"] = tempfile.mkdtemp(prefix="bench-checkpoints-")
    import django

    django.setup()
    from django.conf import settings

    settings.CELERY_TASK_ALWAYS_EAGER = eager  # False: producers only queue; one sequencer process drains


def make_record(i: int, worker: int = 0):
    """A ~1.5 KiB record shaped like a pull-request fact."""
    from ledger.envelope import Record

    rng = random.Random(i * 7919 + worker)
    sha = hashlib.sha1(f"{worker}:{i}".encode()).hexdigest()  # noqa: S324 (a fake commit id)
    data = {
        "number": i,
        "title": f"Change {i}: "
        + " ".join(rng.choice(["fix", "add", "refactor", "payments", "ledger"]) for _ in range(8)),
        "author": f"user{rng.randrange(500)}",
        "base": "main",
        "head_sha": sha,
        "merge_commit_sha": hashlib.sha1(sha.encode()).hexdigest(),  # noqa: S324
        "merged_by": f"user{rng.randrange(500)}",
        "merged_at": "2026-03-01T12:00:00Z",
        "commits": [hashlib.sha1(f"{sha}{k}".encode()).hexdigest() for k in range(6)],  # noqa: S324
        "labels": ["change", "reviewed"],
        "body": "x" * 700,
    }
    t = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=i)
    # A kind no projector reads: this measures the ledger, not the read models.
    return Record("bench.pull_request", "bench", f"github:acme/repo{i % 50}#{i}", f"bench:{worker}:{i}", data, t, t)


# --- Append throughput -------------------------------------------------------------------------


def producer(url: str, worker: int, count: int, batch: int, start: mp.Event) -> None:
    setup_django(url, eager=False)
    from config.celery import app
    from ledger.append import append_entries

    # A reachable broker, as in production: each batch's on-commit "sequence" notice is sent, not retried
    # against a broker that is not there (kombu's in-memory transport; the sequencer process drains).
    app.conf.broker_url = "memory://"

    records = [make_record(i, worker) for i in range(count)]
    start.wait()
    for k in range(0, count, batch):
        append_entries(records[k : k + batch])


def sequencer(url: str, total: int, start: mp.Event, done: mp.Queue) -> None:
    setup_django(url, eager=False)
    from ledger.models import Head
    from ledger.sequencer import sequence_pending

    start.wait()
    t0 = time.perf_counter()
    while True:
        sequence_pending(batch_size=5000)
        if Head.objects.values_list("size", flat=True).first() == total:
            break
        time.sleep(0.005)
    done.put(time.perf_counter() - t0)


def append_throughput(url: str, producers: int, per_producer: int, batch: int) -> float:
    ctx = mp.get_context("spawn")
    start, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=producer, args=(url, w, per_producer, batch, start)) for w in range(producers)]
    procs.append(ctx.Process(target=sequencer, args=(url, producers * per_producer, start, done)))
    for p in procs:
        p.start()
    time.sleep(3 + per_producer / 20000)  # let every process build its records before the gun
    start.set()
    seconds = done.get(timeout=3600)
    for p in procs:
        p.join()
    return producers * per_producer / seconds


def inline_vs_insert(count: int, batch: int, rounds: int = 4) -> tuple[float, float, float]:
    """SQLite: inline appends and the plain-INSERT baseline in alternating rounds, so all see the same
    machine load and a file of about the same size. Each round appends count/rounds records as the
    ledger alone (sequenced inline, the read-model listener off, as PostgreSQL's figure has no
    projector running), then as many with the read models brought up to date inline (the embedded
    default), then plain-INSERTs count/rounds rows. Returns (ledger/s, with read models/s, insert/s)."""
    from django.conf import settings

    from evidence.readmodels.projectors import project_pending
    from evidence.readmodels.tasks import on_sequenced
    from ledger.append import append_entries
    from ledger.signals import sequenced

    uid = "evidence-project-on-sequenced"  # as evidence.readmodels.apps connects it
    records = [make_record(i, 11) for i in range(2 * count)]
    rows = _insert_rows(count)
    _create_insert_table()
    step = count // rounds
    ledger_s = projected_s = insert_s = 0.0

    def append(part: list) -> float:
        t0 = time.perf_counter()
        for k in range(0, len(part), batch):
            append_entries(part[k : k + batch])
        return time.perf_counter() - t0

    settings.CELERY_TASK_ALWAYS_EAGER = True
    for r in range(rounds):
        sequenced.disconnect(dispatch_uid=uid)
        ledger_s += append(records[2 * r * step : (2 * r + 1) * step])
        sequenced.connect(on_sequenced, dispatch_uid=uid)
        project_pending()  # untimed: the read models catch up on the ledger-only part
        projected_s += append(records[(2 * r + 1) * step : (2 * r + 2) * step])
        insert_s += _insert(rows[r * step : (r + 1) * step], batch)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_insert")
    n = rounds * step
    return n / ledger_s, n / projected_s, n / insert_s


def baseline_rows(count: int) -> list[tuple]:
    from ledger.envelope import seal
    from ledger.merkle import leaf_hash

    rows = []
    now = datetime.now(UTC)
    for i in range(count):
        s = seal(make_record(i, 99))
        r = s.record
        leaf = leaf_hash(s.payload)
        rows.append(
            (
                i,
                r.idempotency_key,
                r.kind,
                r.source,
                r.subject,
                r.observed_at,
                r.occurred_at,
                s.payload,
                leaf,
                leaf,
                now,
            )
        )
    return rows


ENTRY_COLUMNS = "seq, idempotency_key, kind, source, subject, observed_at, occurred_at, payload, leaf_hash, " + (
    "chain_hash, sequenced_at"
)


def _insert_rows(count: int) -> list[tuple]:
    from django.db import connection

    adapt = connection.ops.adapt_datetimefield_value
    return [(*r[:5], adapt(r[5]), adapt(r[6]), r[7], r[8], r[9], adapt(r[10])) for r in baseline_rows(count)]


def _create_insert_table() -> None:
    """A table shaped like ledger_entry by its own DDL: keys and indexes, as PostgreSQL's
    LIKE ... INCLUDING ALL copies them (not its append-only triggers, which fire on UPDATE and DELETE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_insert")
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'ledger_entry' AND type IN ('table', 'index') "
            "AND sql IS NOT NULL ORDER BY type DESC"  # the table before its indexes
        )
        for (ddl,) in cursor.fetchall():
            cursor.execute(ddl.replace('"ledger_entry', '"bench_insert'))


def _insert(rows: list[tuple], batch: int) -> float:
    """Plain executemany INSERTs, one transaction per batch (as an inline append commits); seconds."""
    from django.db import connection, transaction

    placeholders = ", ".join(["%s"] * 11)
    t0 = time.perf_counter()
    for k in range(0, len(rows), batch):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO bench_insert ({ENTRY_COLUMNS}) VALUES ({placeholders})", rows[k : k + batch]
            )
    return time.perf_counter() - t0


def copy_baseline(count: int) -> float:
    """Plain COPY of the same canonical rows into a same-shaped table, one transaction."""
    from django.db import connection, transaction

    rows = baseline_rows(count)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute("CREATE TABLE bench_copy (LIKE ledger_entry INCLUDING ALL)")
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY bench_copy ({ENTRY_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    seconds = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return count / seconds


# --- Single-entry latency, verification, proofs ----------------------------------------------


def single_append_latency(n: int, eager: bool) -> tuple[float, float]:
    from django.conf import settings

    from ledger.append import append_entry

    settings.CELERY_TASK_ALWAYS_EAGER = eager
    times = []
    base = 10_000_000 + (0 if eager else 5_000_000)
    for i in range(n):
        record = make_record(base + i, 7)
        t0 = time.perf_counter()
        append_entry(record)
        times.append((time.perf_counter() - t0) * 1000)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return percentile(times, 50), percentile(times, 95)


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def bulk_fill(total: int) -> None:
    """Fill the ledger quickly through the real append path (queue + sequencer) in big batches."""
    from ledger.append import append_entries
    from ledger.models import Head
    from ledger.sequencer import sequence_pending

    have = Head.objects.values_list("size", flat=True).first() or 0
    step = 5000
    for k in range(have, total, step):
        append_entries([make_record(i, 5) for i in range(k, min(total, k + step))])
        sequence_pending(batch_size=step)


def stream_and_hash_baseline() -> float:
    """Stream the same stored bytes out of the database and hash them with plain hashlib."""
    from django.db import connection, transaction

    t0 = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.connection.cursor(name="bench_stream") as cursor:
                cursor.itersize = 5000
                cursor.execute("SELECT payload FROM ledger_entry ORDER BY seq")
                for (payload,) in cursor:
                    hashlib.sha256(b"\x00" + bytes(payload)).digest()
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT payload FROM ledger_entry ORDER BY seq")
                while rows := cursor.fetchmany(5000):
                    for (payload,) in rows:
                        hashlib.sha256(b"\x00" + bytes(payload)).digest()
    return time.perf_counter() - t0


def run(url: str, label: str, args) -> dict[str, object]:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from ledger.checkpoints import sign_checkpoint
    from ledger.keys import SigningKeyError, create_signing_key, load_verifier
    from ledger.verification import verify_ledger

    try:
        load_verifier()
    except SigningKeyError:
        create_signing_key("bench.local/ledger", force=True)
    out: dict[str, object] = {"backend": label}
    print(f"\n== {label} ==")

    # 1. Append throughput. PostgreSQL: 4 producer processes + 1 sequencer process, beside a plain COPY
    # of the same rows. SQLite (one writer by design): one process, inline sequencing, as the embedded
    # default runs, beside plain executemany INSERTs of the same rows.
    if connection.vendor == "postgresql":
        per = args.append_entries // args.producers
        rate = append_throughput(url, args.producers, per, batch=500)
    else:
        rate, projected, raw = inline_vs_insert(args.append_entries, batch=500)
    out["append_per_s"] = round(rate)
    if connection.vendor == "postgresql":
        copy_rate = copy_baseline(args.append_entries)
        out["copy_per_s"] = round(copy_rate)
        print(
            f"append, {args.producers} producers + sequencer: {rate:,.0f} entries/s   "
            f"plain COPY of the same rows: {copy_rate:,.0f} rows/s   ratio {rate / copy_rate:.0%} (target >= 50%)"
        )
    else:
        out["insert_per_s"] = round(raw)
        out["append_projected_per_s"] = round(projected)
        print(
            f"append, one process, sequenced inline (the ledger): {rate:,.0f} entries/s (target >= 7,000/s)   "
            f"plain INSERT of the same rows: {raw:,.0f} rows/s   ratio {rate / raw:.0%} (target >= 30%)"
        )
        print(
            f"  with the read models brought up to date inline too: {projected:,.0f} entries/s   "
            f"ratio {projected / raw:.0%}"
        )

    # 2. Single-entry append: accepted and durable (queued, committed), and sequenced inline.
    p50, p95 = single_append_latency(args.single, eager=False)
    s50, s95 = single_append_latency(args.single, eager=True)
    out.update(single_p50_ms=round(p50, 2), single_p95_ms=round(p95, 2), inline_p50_ms=round(s50, 2))
    print(
        f"single append accepted+durable: p50 {p50:.2f} ms, p95 {p95:.2f} ms (target p50 < 5 ms); "
        f"sequenced inline: p50 {s50:.2f} ms, p95 {s95:.2f} ms"
    )

    # 3. verify_ledger over the whole ledger, beside streaming + hashlib over the same bytes.
    bulk_fill(args.entries)
    sign_checkpoint()
    from ledger.models import Head

    size = Head.objects.get().size
    base = stream_and_hash_baseline()
    t0 = time.perf_counter()
    report = verify_ledger(load_verifier())
    took = time.perf_counter() - t0
    assert report.ok, report.line()
    out.update(entries=size, verify_s=round(took, 2), stream_hash_s=round(base, 2))
    print(
        f"verify_ledger over {size:,} entries: {took:.2f} s   stream+hashlib baseline: {base:.2f} s   "
        f"ratio {took / base:.2f}x (target <= 2x)"
    )

    # 4. Proofs from stored nodes: inclusion and consistency, p50/p95 over random requests.
    from ledger.proofs import consistency_proof, inclusion_proof

    rng = random.Random(1)
    inc, con = [], []
    for _ in range(args.proofs):
        seq = rng.randrange(size)
        t0 = time.perf_counter()
        inclusion_proof(seq, size)
        inc.append((time.perf_counter() - t0) * 1000)
        old = rng.randrange(1, size)
        t0 = time.perf_counter()
        consistency_proof(old, size)
        con.append((time.perf_counter() - t0) * 1000)
    out.update(inclusion_p95_ms=round(percentile(inc, 95), 2), consistency_p95_ms=round(percentile(con, 95), 2))
    print(
        f"inclusion proof: p50 {percentile(inc, 50):.2f} ms, p95 {percentile(inc, 95):.2f} ms; "
        f"consistency proof: p50 {percentile(con, 50):.2f} ms, p95 {percentile(con, 95):.2f} ms (target p95 < 10 ms)"
    )
    return out


def canonical_rates(n: int = 3000) -> None:
    import rfc8785

    from ledger.canonical import canonical_bytes
    from ledger.envelope import seal

    envelopes = [json.loads(seal(make_record(i)).payload) for i in range(n)]
    t0 = time.perf_counter()
    for e in envelopes:
        canonical_bytes(e)
    ours = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for e in envelopes:
        rfc8785.dumps(e)
    ref = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for e in envelopes:
        json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    raw = n / (time.perf_counter() - t0)
    print(
        f"canonical form: {ours:,.0f}/s (checked fast path)   rfc8785 package: {ref:,.0f}/s   "
        f"bare json.dumps: {raw:,.0f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000, help="ledger size for verify/proof figures")
    parser.add_argument("--append-entries", type=int, default=40_000)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--proofs", type=int, default=300)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    results = []
    if args.only in (None, "sqlite"):
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        url = f"sqlite:///{path}"
        setup_django(url, eager=False)
        canonical_rates()
        results.append(run(url, "SQLite", args))
    if args.only in (None, "postgresql"):
        if recreate_database(PG_URL):
            if args.only == "postgresql":
                setup_django(PG_URL, eager=False)
                canonical_rates()
                results.append(run(PG_URL, "PostgreSQL", args))
            else:  # Django is set up for SQLite in this process: measure PostgreSQL in a fresh one
                import subprocess

                cmd = [sys.executable, __file__, "--only", "postgresql"]
                cmd += [
                    f"--entries={args.entries}",
                    f"--append-entries={args.append_entries}",
                    f"--producers={args.producers}",
                    f"--single={args.single}",
                    f"--proofs={args.proofs}",
                ]
                subprocess.run(cmd, check=True)
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
