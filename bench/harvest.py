"""Forge harvest benchmark against the local fake GitHub and GitLab servers.

    python bench/harvest.py                               # 5 repositories x 40 merged PRs x 3 reviews
    python bench/harvest.py --repos 50 --pulls 200        # the issue's full-size organisation
    python bench/harvest.py --forge github

Figures, each beside a raw baseline measured in the same run:
- requests per merged pull request on a first harvest, and on a rerun with nothing changed
  (the rerun should append 0 evidence entries and make no request per pull request);
- the harvest's wall time beside the time the local server alone needs to answer the same requests
  (replayed in order over one keep-alive connection with a plain HTTP client).
The ledger is a temporary SQLite file; the application's database is never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOURLY = 5000  # GitHub's primary limits per token: REST requests an hour, and GraphQL points an hour
TOKEN = "bench-token"  # noqa: S105 (the fake servers' only accepted credential)


def setup_django() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-harvest-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devkit.settings")
    os.environ["LEDGER_SIGNING_KEY"] = str(folder / "ledger.key")
    os.environ["BENCH_FORGE_TOKEN"] = TOKEN
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def replay(server, log, headers: dict[str, str]) -> float:
    """The server alone: the same requests, in order, from a plain keep-alive HTTP client."""
    import requests

    session = requests.Session()
    started = time.perf_counter()
    for item in log:
        extra = {"If-None-Match": item.if_none_match} if item.if_none_match else {}
        if item.method == "POST":  # a GraphQL query
            extra["Content-Type"] = "application/json"
            session.post(server.origin + item.target, data=item.body, headers={**headers, **extra}, timeout=30)
            continue
        session.get(server.origin + item.target, headers={**headers, **extra}, timeout=30).content  # noqa: B018
    return time.perf_counter() - started


def harvest_all(source) -> tuple[float, int, int, int]:
    from evidence.readmodels.projectors import project_pending
    from evidence.sources.harvest import harvest_source

    started = time.perf_counter()
    runs = harvest_source(source)
    project_pending()
    elapsed = time.perf_counter() - started
    failed = [r for r in runs if r.status != "succeeded"]
    if failed:
        raise SystemExit(f"bench: {len(failed)} harvest runs failed, first: {failed[0].errors}")
    return elapsed, sum(r.requests for r in runs), sum(r.appended for r in runs), sum(r.records for r in runs)


def bench(forge: str, repos: int, pulls: int, reviews: int, api: str = "rest") -> dict:
    from devkit.sandbox.github import FakeGitHub
    from devkit.sandbox.gitlab import FakeGitLab
    from devkit.sandbox.organisation import github_organisation, gitlab_group
    from evidence.sources.models import Source
    from ledger.models import Entry

    if forge == "github":
        model = github_organisation(TOKEN, repos=repos, pulls=pulls, reviews=reviews)
        server = FakeGitHub(model, enterprise=True).start()
        config = {"organisation": "acme", "branches": ["main"], "seconds_between_requests": 0, "api": api}
        auth = {"Authorization": f"token {TOKEN}"}
    else:
        server = FakeGitLab(gitlab_group(TOKEN, repos=repos, pulls=pulls, reviews=reviews)).start()
        config = {"group": "acme/platform", "branches": ["main"]}
        auth = {"PRIVATE-TOKEN": TOKEN}
    source = Source.objects.create(
        name=f"bench-{forge}-{api}", kind=forge, url=server.url, credential_env="BENCH_FORGE_TOKEN", config=config
    )
    merged = repos * pulls
    try:
        points = getattr(server, "graphql", None)
        evidence_before = Entry.objects.exclude(kind="harvest.run").count()
        first_time, first_requests, first_appended, first_records = harvest_all(source)
        first_log = list(server.log)
        first_points = sum(points.costs) if points else 0
        first_raw = replay(server, first_log, auth)
        server.reset_log()
        if points:
            points.costs.clear()
        evidence_mid = Entry.objects.exclude(kind="harvest.run").count()
        rerun_time, rerun_requests, _, _ = harvest_all(source)
        rerun_log = list(server.log)
        rerun_points = sum(points.costs) if points else 0
        rerun_raw = replay(server, rerun_log, auth)
        rerun_evidence = Entry.objects.exclude(kind="harvest.run").count() - evidence_mid
        per_pull_rerun = sum(1 for r in rerun_log if "/pulls/" in r.path or "/merge_requests/" in r.path)
    finally:
        server.stop()

    def charged(log) -> int:  # GitHub counts neither a 304 nor a GraphQL query against the REST limit
        return sum(1 for r in log if r.status != 304 and r.method == "GET")

    def pulls_only(log) -> int:  # the requests about pull requests: GraphQL queries, or REST pull/MR routes
        return sum(
            1
            for r in log
            if r.method == "POST" or "/pulls" in r.path or "/merge_requests" in r.path or "/issues/" in r.path
        )

    rest_charged = charged(first_log)
    # GitHub: 5,000 REST requests an hour per token, and apart from them 5,000 GraphQL points
    per_hour = min(
        HOURLY * merged / rest_charged if rest_charged else float("inf"),
        HOURLY * merged / first_points if first_points else float("inf"),
    )
    return {
        "forge": forge,
        "api": api,
        "merged": merged,
        "organisation": f"{repos} repositories x {pulls} merged x {reviews} reviews",
        "prs_per_hour_per_token": int(per_hour),
        "first": {
            "graphql_queries": sum(1 for r in first_log if r.method == "POST"),
            "graphql_points": first_points,
            "rest_requests_charged": rest_charged,
            "pull_requests_requests_per_merged_pull": round(pulls_only(first_log) / merged, 3),
            "seconds": round(first_time, 2),
            "server_alone_seconds": round(first_raw, 2),
            "requests": len(first_log),
            "requests_counted_by_client": first_requests,
            "requests_per_merged_pull": round(len(first_log) / merged, 2),
            "evidence_entries": evidence_mid - evidence_before,
            "records": first_records,  # the same ledger serves both APIs: GraphQL's are REST's, so none is new
            "appended": first_appended,
        },
        "rerun": {
            "graphql_queries": sum(1 for r in rerun_log if r.method == "POST"),
            "graphql_points": rerun_points,
            "requests_per_repository": round(len(rerun_log) / repos, 2),
            "charged_requests_per_repository": round(
                (charged(rerun_log) + sum(1 for r in rerun_log if r.method == "POST")) / repos, 2
            ),
            "seconds": round(rerun_time, 2),
            "server_alone_seconds": round(rerun_raw, 2),
            "requests": len(rerun_log),
            "requests_counted_by_client": rerun_requests,
            "requests_per_merged_pull": round(len(rerun_log) / merged, 3),
            "requests_about_one_pull": per_pull_rerun,
            "evidence_entries": rerun_evidence,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=5)
    parser.add_argument("--pulls", type=int, default=40, help="merged pull/merge requests per repository")
    parser.add_argument("--reviews", type=int, default=3)
    parser.add_argument("--forge", choices=["github", "gitlab", "both"], default="both")
    args = parser.parse_args()
    setup_django()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; ledger: temporary SQLite")
    runs = []
    for forge in ("github", "gitlab") if args.forge == "both" else (args.forge,):
        for api in ("rest", "graphql") if forge == "github" else ("rest",):
            r = bench(forge, args.repos, args.pulls, args.reviews, api)
            runs.append(r)
            f, s = r["first"], r["rerun"]
            print(f"\n{forge} ({api}): {r['organisation']}")
            print(
                f"  first harvest: {f['seconds']:.2f}s (server alone {f['server_alone_seconds']:.2f}s), "
                f"{f['requests']} requests = {f['requests_per_merged_pull']} per merged request "
                f"({f['pull_requests_requests_per_merged_pull']} about pull requests), "
                f"{f['records']} records, {f['evidence_entries']} new evidence entries"
                + (
                    f", {f['graphql_queries']} GraphQL queries costing {f['graphql_points']} points"
                    if api != "rest"
                    else ""
                )
            )
            print(
                f"  rerun, nothing changed: {s['seconds']:.2f}s (server alone {s['server_alone_seconds']:.2f}s), "
                f"{s['requests']} requests = {s['requests_per_repository']} per repository "
                f"({s['charged_requests_per_repository']} counted by the rate limit; {s['requests_about_one_pull']} "
                f"about any one pull request), {s['evidence_entries']} evidence entries"
            )
            if forge == "github":
                print(
                    "  PRs per hour per token (5,000 requests and 5,000 points an hour): "
                    f"{r['prs_per_hour_per_token']:,}"
                )
            print(json.dumps(r))
    summary = {}
    for r in runs:
        if r["forge"] == "github":
            prefix = f"github_{r['api']}"
            summary[f"{prefix}_requests_per_pr"] = r["first"]["requests_per_merged_pull"]
            summary[f"{prefix}_pull_request_requests_per_pr"] = r["first"]["pull_requests_requests_per_merged_pull"]
            summary[f"{prefix}_rerun_requests_per_repo"] = r["rerun"]["requests_per_repository"]
            summary[f"{prefix}_rerun_charged_requests_per_repo"] = r["rerun"]["charged_requests_per_repository"]
            summary[f"{prefix}_prs_per_hour_per_token"] = r["prs_per_hour_per_token"]
            if r["api"] == "graphql":
                summary["github_graphql_points_per_pr"] = round(r["first"]["graphql_points"] / r["merged"], 3)
                summary["github_prs_per_hour_per_token"] = r["prs_per_hour_per_token"]
        else:
            summary["gitlab_rest_requests_per_mr"] = r["first"]["requests_per_merged_pull"]
    print(json.dumps({"summary": summary}))


if __name__ == "__main__":
    main()
