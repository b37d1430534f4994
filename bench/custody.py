"""Chain-of-custody benchmark: build_custody for one deployment beside raw SQL fetching the same rows.

    python bench/custody.py                 # SQLite in a temporary file, 200 background changes
    python bench/custody.py --background 5000 --runs 500
    DATABASE_URL=postgres://root@127.0.0.1:5432/ledger_bench_custody python bench/custody.py
    BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/ledger_bench_custody python bench/custody.py \
        --deployments 100000                # the issue's figure: a fresh database, 100,000 more deployments

The measured deployment has 5 images (signed, with provenance, all from one merged pull request
with 20 approvals), its base branch's protection changed 3 times before the merge, and a config
pull request for the deployed revision. Background changes (each a PR, a review, an image and a
deployment) make the tables non-trivial; `--deployments N` adds N more filled directly in SQL as
bench/admin.py does (500 applications in 10 environments over a year, an image row each, a merged
pull request with one approval for every 10th revision, a ledger of harvest runs).
Figures: p50/p95 of build_custody over --runs calls, SQL queries per call for this deployment and
for a 1-image/1-approval one (they must be equal), beside the raw baseline: the same rows read
with hand-written SQL, no chain logic.
The issue's target: p95 < 50 ms at 100,000 deployments on PostgreSQL, and queries that do not
grow with images or approvals. The last line is a one-line JSON summary.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_MS = 50


def _bench(name: str):
    """Another bench's module (its fill functions), so the benches share a data shape."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devkit.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill_bulk(deployments: int) -> None:
    """`deployments` more, with images, pull requests, approvals and findings, straight in SQL; and a
    ledger of forge harvest runs (one per repository and day), as a year of harvesting leaves."""
    from django.db import connection, transaction

    from ledger.append import append_entries
    from ledger.envelope import Record
    from ledger.sequencer import sequence_pending

    admin = _bench("admin")
    admin.bench_running.fill(deployments)
    admin.bench_running.derive()
    admin.fill_related()
    from evidence.compliance.models import JudgeCursor

    # fill_related gave them their verdicts: judging starts from the first entry, not with all of them.
    JudgeCursor.objects.update_or_create(id=1, defaults={"last_seq": 0})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO evidence_approval (forge, repository, number, pull_request_id, review_id, reviewer, state, "
            "submitted_state, history, commit_id, submitted_at, dismissed, dismissed_by, entry_seq) "
            "SELECT p.forge, p.repository, p.number, p.id, 'r' || p.id, 'reviewer' || (p.id % 89), 'APPROVED', "
            "'APPROVED', '[]', p.head_sha, p.merged_at, false, '', p.entry_seq FROM evidence_pullrequest p "
            "WHERE p.source = 'bench'"
        )
    start = admin.bench_running.START
    records = [
        Record(
            "harvest.run",
            "bench",
            f"github:acme/app{n % 500:03d}",
            f"bench:harvest:{n}",
            {"target": f"acme/app{n % 500:03d}", "status": "succeeded"},
            start + timedelta(minutes=17 * n),
            start + timedelta(minutes=17 * n),
        )
        for n in range(deployments // 4)
    ]
    for k in range(0, len(records), 5000):
        append_entries(records[k : k + 5000])
        sequence_pending(batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def fill(background: int) -> tuple[int, int]:
    """Append the history through the ledger; return (measured deployment id, small deployment id)."""
    from evidence.readmodels.models import Deployment
    from evidence.readmodels.projectors import project_pending
    from tests.support.custody_story import APP, PROTECTED, T0, Story, digest, prod_policy

    prod_policy()
    noise = Story("noise")
    for i in range(background):
        at = T0 - timedelta(days=60) + timedelta(minutes=10 * i)
        head, merge, image = f"{i:040x}", f"{i + 10**9:040x}", digest(f"noise-{i}")
        noise.pull(APP, 10_000 + i, "erin", head, merge, at)
        noise.review(APP, 10_000 + i, "frank", head, at - timedelta(minutes=5))
        noise.signature(image, n=i)
        noise.provenance(image, merge, n=i)
        noise.deploy(merge, [image], at + timedelta(minutes=5), application=f"svc{i % 40}")
    noise.append()

    small = Story("small")
    small.deployed_at = T0 + timedelta(hours=3)
    small.clean(skip={"deploy"})
    small.deploy(small.config_merge, [small.image], small.deployed_at, application="small")
    small.append()

    big = Story("a")
    for n, change in enumerate(({"dismiss_stale_reviews": False}, {"required_approvals": 2}, {})):
        big.protection(APP, {**PROTECTED, **change}, T0 - timedelta(days=8 - 2 * n))
    images = [big.image] + [digest(f"a-image-{i}") for i in range(4)]
    big.clean(app_reviews=[(f"reviewer-{i:02d}", big.head) for i in range(20)], skip={"deploy"})
    for image in images[1:]:
        big.signature(image)
        big.provenance(image, big.merge)
    big.deploy(big.config_merge, images, big.deployed_at)
    big.append()
    project_pending()
    return (
        Deployment.objects.get(application="payments").id,
        Deployment.objects.get(application="small").id,
    )


def rejudged_by_a_late_review() -> tuple[int, int, float]:
    """A review of the measured change arriving late, as a webhook's re-harvest delivers it: how
    many deployments its projection re-judges (of how many), and how long projecting it took."""
    from evidence.compliance.judgement import judge_pending
    from evidence.compliance.targets import touched_deployments
    from evidence.readmodels.models import Deployment
    from evidence.readmodels.projectors import project_pending
    from tests.support.custody_story import APP, T0, Story

    late = Story("a")
    late.review(APP, 1, "reviewer-late", late.head, T0 + timedelta(hours=1))
    start = time.perf_counter()
    [seq] = late.append()  # sequenced and committed: the projector runs after the commit
    project_pending()  # (a no-op if it already ran) then judge_pending re-judges what it touched
    seconds = time.perf_counter() - start
    assert judge_pending().deployments == 0  # nothing left: the projector's run judged it
    return len(touched_deployments(seq, seq)), Deployment.objects.count(), seconds


def time_custody(deployment_id: int, runs: int) -> tuple[list[float], int, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evidence.compliance.custody import build_custody
    from evidence.readmodels.models import Deployment

    deployment = Deployment.objects.get(id=deployment_id)
    with CaptureQueriesContext(connection) as captured:
        chain = build_custody(deployment)
    images = sum(link.name == "image" for link in chain.links)
    approvals = len({link.explanation for link in chain.links if link.name == "approval"})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        build_custody(Deployment.objects.get(id=deployment_id))
        times.append(time.perf_counter() - start)
    return times, len(captured.captured_queries), images, approvals


def time_raw(deployment_id: int, runs: int) -> tuple[list[float], int]:
    """The rows the chain reads, fetched with hand-written SQL: the floor for any implementation."""
    from django.db import connection

    from evidence.readmodels.models import (
        Approval,
        Deployment,
        DeploymentImage,
        ProtectionSnapshot,
        Provenance,
        PullRequest,
        SignatureVerdict,
    )

    t = {
        m.__name__: m._meta.db_table
        for m in (Approval, Deployment, DeploymentImage, ProtectionSnapshot, Provenance, PullRequest, SignatureVerdict)
    }
    times = []
    queries = 0
    for _ in range(runs):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT revision, environment FROM {t['Deployment']} WHERE id = %s", [deployment_id])
            revision, _ = cursor.fetchone()
            cursor.execute(f"SELECT digest FROM {t['DeploymentImage']} WHERE deployment_id = %s", [deployment_id])
            digests = [r[0] for r in cursor.fetchall()]
            marks = ", ".join(["%s"] * len(digests))
            cursor.execute(f"SELECT * FROM {t['SignatureVerdict']} WHERE digest IN ({marks})", digests)
            cursor.fetchall()
            cursor.execute(f"SELECT source_commit FROM {t['Provenance']} WHERE digest IN ({marks})", digests)
            shas = sorted({r[0] for r in cursor.fetchall()} | {revision})
            marks = ", ".join(["%s"] * len(shas))
            cursor.execute(f"SELECT * FROM {t['PullRequest']} WHERE merge_commit_sha IN ({marks})", shas)
            pulls = cursor.fetchall()
            ids = [p[0] for p in pulls]
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"SELECT * FROM {t['Approval']} WHERE pull_request_id IN ({marks})", ids)
            cursor.fetchall()
            cursor.execute(
                f"SELECT * FROM {t['ProtectionSnapshot']} WHERE repository IN ('acme/payments', 'acme/deploy')"
            )
            cursor.fetchall()
            queries = 8
        times.append(time.perf_counter() - start)
    return times, queries


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--background", type=int, default=200, help="other changes and deployments (default 200)")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--deployments", type=int, default=0, help="more deployments filled in SQL (issue: 100000)")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        from pgdb import recreate_database  # bench/ is sys.path[0] when a bench runs as a script

        if not recreate_database(url):
            return
    url = url or os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench-custody.sqlite3"
    setup_django(url)
    started = time.perf_counter()
    if args.deployments:
        fill_bulk(args.deployments)
    big, small = fill(args.background)
    from django.db import connection

    from evidence.readmodels.models import Deployment

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    total = Deployment.objects.count()

    print(
        f"database: {connection.vendor}; {total:,} deployments; history appended and projected in "
        f"{time.perf_counter() - started:.1f} s"
    )
    small_times, small_queries, small_images, small_approvals = time_custody(small, args.runs)
    times, queries, images, approvals = time_custody(big, args.runs)
    raw, raw_queries = time_raw(big, args.runs)
    print(f"{'':38}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    print(f"{'custody, 5 images / 20 approvals':38}{p(times, 0.5):9.2f}{p(times, 0.95):9.2f}{queries:9d}")
    print(
        f"{'custody, 1 image / 1 approval':38}{p(small_times, 0.5):9.2f}{p(small_times, 0.95):9.2f}{small_queries:9d}"
    )
    print(f"{'raw SQL baseline (same rows, no logic)':38}{p(raw, 0.5):9.2f}{p(raw, 0.95):9.2f}{raw_queries:9d}")
    print(
        f"measured chain: {images} images, {approvals} approvals on the app PR; small chain: {small_images} image, "
        f"{small_approvals} approval"
    )
    rejudged, of, rejudge_s = rejudged_by_a_late_review()
    print(f"a late review of the measured change re-judges {rejudged} of {of:,} deployments, {rejudge_s * 1000:.0f} ms")
    verdict = "met" if p(times, 0.95) < TARGET_MS and queries == small_queries else "NOT met"
    print(f"target (p95 < {TARGET_MS} ms, queries independent of images/approvals): {verdict}")
    summary = {
        "database": connection.vendor,
        "deployments": total,
        "custody_p50_ms": round(p(times, 0.5), 2),
        "custody_p95_ms": round(p(times, 0.95), 2),
        "queries": queries,
        "small_p95_ms": round(p(small_times, 0.95), 2),
        "small_queries": small_queries,
        "raw_p50_ms": round(p(raw, 0.5), 2),
        "raw_p95_ms": round(p(raw, 0.95), 2),
        "raw_queries": raw_queries,
        "rejudged_after_one_review": rejudged,
        "target": verdict,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
