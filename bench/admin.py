"""Admin list pages on large data: server time of each page beside a raw SQL query of the same page.

    python bench/admin.py                         # 100,000 deployments, SQLite and PostgreSQL
    python bench/admin.py --only postgresql
    python bench/admin.py --deployments 20000     # quicker

Fills deployments as bench/running.py does (500 applications in 10 environments over a year),
plus one image row per deployment, a merged pull request for every 10th revision, findings
on every 20th deployment (and evidence gaps on every 7th) and a verdict for each. Each page is
requested through Django's test client as an auditor (the whole server side: middleware, admin,
queries, template) `--repeat` times; the baseline is
one hand-written SQL query returning the same page of rows, checked to be the same rows.
Also the dashboard on the admin index (its grouped counts and charts), a deployment's page (its
chain of custody), a pull request's page and the findings list (issue 13).
Target (issues 6 and 13): every page under 300 ms p95 server time at 100,000 deployments.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from pgdb import recreate_database  # bench/ is sys.path[0] when a bench runs as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/ledger_bench_admin")
PAGE = 50  # DeploymentAdmin.list_per_page
TARGET_MS = 300
ROW_LINK = re.compile(r'<th class="field-started_at[^"]*"><a href="/admin/readmodels/deployment/(\d+)/change/')

_spec = importlib.util.spec_from_file_location("bench_running", Path(__file__).with_name("running.py"))
bench_running = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_running)  # its fill() and setup_django(), so both benches share a data shape


def fill_related() -> None:
    """Image rows, pull requests and findings, derived in SQL from the deployments just filled."""
    from django.db import connection, transaction

    first = "d.image_digests->>0" if connection.vendor == "postgresql" else "json_extract(d.image_digests, '$[0]')"
    statements = [
        "INSERT INTO evidence_deploymentimage (deployment_id, digest, image, origin, entry_seq) "
        f"SELECT d.id, {first}, 'r.example.test/' || d.application, 'controller', d.first_seq "
        "FROM evidence_deployment d",
        "INSERT INTO evidence_pullrequest (forge, repository, number, title, url, author, base, head_sha, "
        "merge_commit_sha, squash_commit_sha, merged_at, merged_by, commits, source, entry_seq) "
        "SELECT 'github', 'acme/' || d.application, d.id, 'change ' || d.id, '', 'author' || (d.id % 97), 'main', "
        "'', d.revision, '', d.started_at, 'merger', '[]', 'bench', d.first_seq FROM evidence_deployment d "
        "WHERE d.id % 10 = 0",
        "INSERT INTO evidence_finding (key, deployment_id, environment, application, deployed_at, code, severity, "
        "subject, repository, explanation, controls, entry_seqs, policy_seq, accepted_until, accepted_by, "
        "acceptance_reason, acceptance_seq, acceptance_approved_by) SELECT 'bench' || d.id, d.id, d.environment, "
        "d.application, "
        "d.finished_at, 'no_pull_request', 'high', d.revision, '', 'no pull request merged this revision', '[]', "
        "d.entry_seqs, NULL, NULL, '', '', NULL, '' FROM evidence_deployment d WHERE d.id % 20 = 0",
        # Evidence gaps on every 7th (not also a violation), and a verdict for every deployment.
        "INSERT INTO evidence_finding (key, deployment_id, environment, application, deployed_at, code, severity, "
        "subject, repository, explanation, controls, entry_seqs, policy_seq, accepted_until, accepted_by, "
        "acceptance_reason, acceptance_seq, acceptance_approved_by) SELECT 'gap' || d.id, d.id, d.environment, "
        "d.application, "
        "d.finished_at, 'evidence_gap', 'medium', d.subject, '', 'not looked', '[]', d.entry_seqs, NULL, NULL, '', '', "
        "NULL, '' FROM evidence_deployment d WHERE d.id % 7 = 0 AND d.id % 20 <> 0",
        "INSERT INTO compliance_deploymentverdict (deployment_id, environment, application, deployed_at, verdict, "
        "reason, policy_seq) SELECT d.id, d.environment, d.application, d.finished_at, CASE WHEN d.id % 20 = 0 "
        "THEN 'exception' WHEN d.id % 7 = 0 THEN 'incomplete' WHEN d.outcome = 'failed' THEN 'attempt' "
        "ELSE 'compliant' END, '-', NULL FROM evidence_deployment d",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


COLUMNS = "d.id, d.started_at, d.environment, d.application, d.revision, d.outcome, d.controller, d.initiated_by"


def raw_page(where: str = "", params: tuple = (), offset: int = 0) -> list[int]:
    """The baseline: one statement for the page's rows, newest first, and their pull requests."""
    from django.db import connection

    sql = (
        f"SELECT {COLUMNS}, d.image_digests, (SELECT p.number FROM evidence_pullrequest p "
        "WHERE p.merge_commit_sha = d.revision LIMIT 1) FROM evidence_deployment d "
        f"{where} ORDER BY d.started_at DESC, d.id DESC LIMIT {PAGE} OFFSET {offset}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def raw_dashboard() -> None:
    """The dashboard's baseline: its grouped counts for one environment over the latest quarter."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(deployed_at) FROM compliance_deploymentverdict")
        (latest,) = cursor.fetchone()
        span = "environment = %s AND deployed_at >= %s"
        since = (latest - timedelta(days=91)) if hasattr(latest, "year") else latest
        for sql in (
            f"SELECT verdict, COUNT(*) FROM compliance_deploymentverdict WHERE {span} GROUP BY verdict",
            f"SELECT code, COUNT(*) FROM evidence_finding WHERE {span} GROUP BY code",
        ):
            cursor.execute(sql, ("env0", since))
            cursor.fetchall()


def raw_row(table: str, pk: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", (pk,))
        cursor.fetchall()


def cases() -> list[tuple[str, str, dict, object]]:
    """(name, admin path, query, raw baseline) for the pages an auditor opens. A baseline returning
    a list is the page's rows, checked equal; the others (dashboard, one row's page) are timed only."""
    from django.db import connection

    from evidence.readmodels.models import Deployment, DeploymentImage, PullRequest

    digest = DeploymentImage.objects.order_by("id").values_list("digest", flat=True)[500]
    number = PullRequest.objects.order_by("number").values_list("number", flat=True)[300]
    found = "EXISTS (SELECT 1 FROM evidence_finding f WHERE f.deployment_id = d.id)"
    image = "d.id IN (SELECT i.deployment_id FROM evidence_deploymentimage i WHERE i.digest = %s)"
    merged = "d.revision IN (SELECT p.merge_commit_sha FROM evidence_pullrequest p WHERE p.number = %s)"
    path = "/admin/readmodels/deployment/"
    flagged = Deployment.objects.filter(id__gt=args_middle(), findings__isnull=False).values_list("id", flat=True)[0]
    pull = PullRequest.objects.order_by("id").values_list("id", flat=True)[300]
    pulls = PullRequest._meta.db_table
    del connection
    return [
        ("deployments, first page", path, {}, lambda: raw_page()),
        ("deployments, page 100", path, {"p": "100"}, lambda: raw_page(offset=99 * PAGE)),
        (
            "filter environment+outcome",
            path,
            {"environment": "env3", "outcome": "succeeded"},
            lambda: raw_page("WHERE d.environment = %s AND d.outcome = %s", ("env3", "succeeded")),
        ),
        ("filter has findings", path, {"findings": "yes"}, lambda: raw_page(f"WHERE {found}")),
        ("search digest", path, {"q": digest}, lambda: raw_page(f"WHERE {image}", (digest,))),
        ("search PR number", path, {"q": str(number)}, lambda: raw_page(f"WHERE {merged}", (number,))),
        ("dashboard (admin index)", "/admin/", {"environment": "env0"}, raw_dashboard),
        ("deployment page", f"{path}{flagged}/change/", {}, lambda: raw_row("evidence_deployment", flagged)),
        ("pull request page", f"/admin/readmodels/pullrequest/{pull}/change/", {}, lambda: raw_row(pulls, pull)),
        ("findings list", "/admin/compliance/finding/", {}, lambda: raw_row("evidence_finding", 1)),
    ]


def args_middle() -> int:
    """A deployment id in the middle of the table (pages open on ordinary rows, not the first)."""
    from evidence.readmodels.models import Deployment

    last = Deployment.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return last // 2


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(label: str, args: argparse.Namespace) -> dict[str, object]:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    bench_running.fill(args.deployments)
    fill_related()
    seconds = time.perf_counter() - started
    auditor = User.objects.create_user("bench-auditor", is_staff=True)
    auditor.groups.add(Group.objects.get(name="auditors"))
    client = Client()
    client.force_login(auditor)
    print(f"{label}: {args.deployments:,} deployments (filled in {seconds:.1f}s); {args.repeat} requests per page")
    print(f"  {'page':28} {'admin p50':>10} {'admin p95':>10} {'raw SQL p50':>12} {'queries':>8}")
    results = {}
    for name, path, query, raw in cases():
        admin_ms, raw_ms = [], []
        for _ in range(2):  # warm caches for both sides alike
            client.get(path, query)
            raw()
        for _ in range(args.repeat):
            connection.force_debug_cursor = True
            reset_queries()
            t0 = time.perf_counter()
            response = client.get(path, query)
            admin_ms.append((time.perf_counter() - t0) * 1000)
            queries = len(connection.queries)
            connection.force_debug_cursor = False
            t0 = time.perf_counter()
            expected = raw()
            raw_ms.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, f"{name}: HTTP {response.status_code}"
        if isinstance(expected, list):
            shown = [int(pk) for pk in ROW_LINK.findall(response.content.decode())]
            assert shown == expected, f"{name}: the admin's page differs from the raw query's"
        p50, p95, base = statistics.median(admin_ms), percentile(admin_ms, 95), statistics.median(raw_ms)
        flag = "" if p95 < TARGET_MS else f"  OVER {TARGET_MS} ms"
        print(f"  {name:28} {p50:8.1f}ms {p95:8.1f}ms {base:10.1f}ms {queries:8d}{flag}")
        results[name] = {"admin_p50_ms": round(p50, 1), "admin_p95_ms": round(p95, 1), "raw_p50_ms": round(base, 1)}
        results[name]["queries"] = queries
    return {"database": label, "deployments": args.deployments, "pages": results}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=100_000, help="rows; the issue's figure is 100000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    if args.only in (None, "sqlite"):
        path = Path(tempfile.mkdtemp()) / "bench-admin.sqlite3"
        bench_running.setup_django(f"sqlite:///{path}")
        print(json.dumps(run("SQLite", args)))
        path.unlink()
    if args.only in (None, "postgresql"):
        if not recreate_database(PG_URL):
            return
        if args.only == "postgresql":
            bench_running.setup_django(PG_URL)
            print(json.dumps(run("PostgreSQL", args)))
        else:  # Django is set up for SQLite in this process: measure PostgreSQL in a fresh one
            cmd = [sys.executable, __file__, "--only", "postgresql", f"--deployments={args.deployments}"]
            subprocess.run([*cmd, f"--repeat={args.repeat}"], check=True)


if __name__ == "__main__":
    main()
