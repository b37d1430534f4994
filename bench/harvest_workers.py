"""Forge harvests spread over Celery workers: the same organisation harvested by 1 and by 2 worker
processes, through the production path (beat's `harvest_source` fans out one `harvest_target`
task per repository over Redis; each worker appends to the ledger in PostgreSQL).

    BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/bench_harvest_workers REDIS_URL=redis://127.0.0.1:6379/11 \
        python bench/harvest_workers.py                       # 20 repositories x 30 merged PRs, 20 ms a request
    python bench/harvest_workers.py --repos 40 --latency-ms 50 --workers 1 2 4

The fake GitHub answers every request after --latency-ms (api.github.com answers in tens to
hundreds of milliseconds; on loopback a harvest would be bound by the CPU alone). Each worker count
gets a fresh database. Figures: wall time from the fan-out to the last harvest run finished,
beside the baseline of the same requests replayed one after another by a plain HTTP client (what
one worker cannot beat); the speed-up over one worker; and a check that every run recorded the
same evidence (same idempotency keys, no duplicates, a gapless chain), also when every repository
is harvested twice at once (two fan-outs queued together: the tasks must be safe to run twice
concurrently). Ends with a one-line JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOKEN = "bench-token"  # noqa: S105 (the fake server's only accepted credential)
WORKER = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"]
WORKER += ["--without-gossip", "--without-mingle", "--without-heartbeat"]


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    workers = []
    for n in range(count):
        workers.append(
            subprocess.Popen(
                [*WORKER, "-n", f"bench{n}@%h"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
    return workers


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def run_once(workers: int, url: str, server, repos: int, timeout: float, fanouts: int = 1) -> dict:
    """Fresh database, `workers` worker processes, `fanouts` fan-outs at once (2: every repository
    harvested twice concurrently); wall time to the last run."""
    from django.core.management import call_command
    from django.db import connections
    from pgdb import recreate_database  # bench/ is sys.path[0] when a bench runs as a script

    connections.close_all()
    recreate_database(url)
    call_command("migrate", verbosity=0)
    from evidence.sources.models import HarvestRun, Source
    from evidence.sources.tasks import harvest_source
    from ledger.models import Entry
    from ledger.sequencer import sequence_pending

    source = Source.objects.create(
        name="bench-workers",
        kind="github",
        url=server.url,
        credential_env="BENCH_FORGE_TOKEN",
        config={"organisation": "acme", "branches": ["main"], "seconds_between_requests": 0},
    )
    procs = start_workers(workers, dict(os.environ))
    try:
        time.sleep(3)  # the workers connect to the broker before the clock starts
        server.reset_log()
        started = time.perf_counter()
        for _ in range(fanouts):
            harvest_source.delay(source.pk)
        while True:
            done = HarvestRun.objects.filter(finished_at__isnull=False).count()
            if done >= repos * fanouts:
                break
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"bench: {done} of {repos * fanouts} harvest runs finished after {timeout:.0f} s")
            for proc in procs:
                if proc.poll() is not None:
                    raise SystemExit(f"bench: a worker exited: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        stop(procs)
    failed = list(HarvestRun.objects.exclude(status="succeeded").values_list("target", "errors"))
    if failed:
        raise SystemExit(f"bench: {len(failed)} harvest runs did not succeed, first: {failed[0]}")
    sequence_pending()
    keys = sorted(Entry.objects.exclude(kind="harvest.run").values_list("idempotency_key", flat=True))
    seqs = list(Entry.objects.order_by("seq").values_list("seq", flat=True))
    return {
        "workers": workers,
        "fanouts": fanouts,
        "seconds": round(elapsed, 2),
        "requests": len(server.log),
        "runs": HarvestRun.objects.count(),
        "evidence_entries": len(keys),
        "keys": keys,
        "gapless": seqs == list(range(seqs[0], seqs[0] + len(seqs))),
    }


def replay(server, log) -> float:
    """The same requests one after another from a plain keep-alive client: one worker's floor."""
    import requests

    session = requests.Session()
    started = time.perf_counter()
    for item in log:
        session.get(server.origin + item.target, headers={"Authorization": f"token {TOKEN}"}, timeout=30).content  # noqa: B018
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--pulls", type=int, default=30, help="merged pull requests per repository")
    parser.add_argument("--reviews", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="the fake server's delay per request")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--no-twice", action="store_true", help="skip the last run: every repository harvested twice at once"
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        print("bench: set BENCH_DATABASE_URL (PostgreSQL) and REDIS_URL: workers share a database and a broker")
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="devkit.settings",
        BENCH_FORGE_TOKEN=TOKEN,
        LEDGER_SIGNING_KEY=str(folder / "ledger.key"),
        LEDGER_CHECKPOINT_DIR=str(folder / "checkpoints"),
    )
    from pgdb import recreate_database

    if not recreate_database(url):
        return
    import django

    django.setup()
    from devkit.sandbox.github import FakeGitHub
    from devkit.sandbox.organisation import github_organisation

    server = FakeGitHub(github_organisation(TOKEN, repos=args.repos, pulls=args.pulls, reviews=args.reviews))
    server.latency = args.latency_ms / 1000
    server.start()
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} cores, load {load:.1f}; {args.repos} repositories x {args.pulls} merged PRs x "
        f"{args.reviews} reviews; the fake GitHub answers after {args.latency_ms:.0f} ms"
    )
    try:
        results = [run_once(n, url, server, args.repos, args.timeout) for n in args.workers]
        log = list(server.log)  # the last run's requests
        baseline = replay(server, log)
        twice = None if args.no_twice else run_once(max(args.workers), url, server, args.repos, args.timeout, 2)
    finally:
        server.stop()
    one = results[0]
    print(f"{'':34}{'seconds':>9}{'requests':>10}{'speed-up':>10}")
    print(f"{'requests replayed serially':34}{baseline:9.2f}{len(log):10d}{'':>10}")
    for r in results:
        print(
            f"{str(r['workers']) + ' worker process(es)':34}{r['seconds']:9.2f}{r['requests']:10d}"
            f"{one['seconds'] / r['seconds']:9.2f}x"
        )
    same = all(r["keys"] == one["keys"] for r in results)
    unique = all(len(set(r["keys"])) == len(r["keys"]) for r in results)
    print(
        f"every run: {one['evidence_entries']} evidence entries, the same idempotency keys: {same}; "
        f"no duplicates: {unique}; gapless chain: {all(r['gapless'] for r in results)}"
    )
    if twice is not None:
        print(
            f"every repository harvested twice at once by {twice['workers']} workers ({twice['seconds']:.2f} s, "
            f"{twice['runs']} runs): the same evidence: {twice['keys'] == one['keys']}, no duplicates: "
            f"{len(set(twice['keys'])) == len(twice['keys'])}, gapless chain: {twice['gapless']}"
        )
        results.append(twice)
        same = same and twice["keys"] == one["keys"]
        unique = unique and len(set(twice["keys"])) == len(twice["keys"])
    if not (same and unique and all(r["gapless"] for r in results)):
        raise SystemExit("bench: the runs did not record the same evidence")
    summary = {
        "repos": args.repos,
        "merged_pulls": args.repos * args.pulls,
        "latency_ms": args.latency_ms,
        "serial_replay_s": round(baseline, 2),
        **{f"workers_{r['workers']}_s": r["seconds"] for r in results if r["fanouts"] == 1},
        **{
            f"speedup_{r['workers']}": round(one["seconds"] / r["seconds"], 2) for r in results[1:] if r["fanouts"] == 1
        },
        "twice_at_once_same_evidence": None if twice is None else twice["keys"] == one["keys"],
        "evidence_entries": one["evidence_entries"],
        "same_evidence": same,
        "load": round(load, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
