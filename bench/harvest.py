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
        session.get(server.origin + item.target, headers={**headers, **extra}, timeout=30).content  # noqa: B018
    return time.perf_counter() - started


def harvest_all(source) -> tuple[float, int, int]:
    from evidence.readmodels.projectors import project_pending
    from evidence.sources.harvest import harvest_source

    started = time.perf_counter()
    runs = harvest_source(source)
    project_pending()
    elapsed = time.perf_counter() - started
    failed = [r for r in runs if r.status != "succeeded"]
    if failed:
        raise SystemExit(f"bench: {len(failed)} harvest runs failed, first: {failed[0].errors}")
    return elapsed, sum(r.requests for r in runs), sum(r.appended for r in runs)


def bench(forge: str, repos: int, pulls: int, reviews: int) -> dict:
    from devkit.sandbox.github import FakeGitHub
    from devkit.sandbox.gitlab import FakeGitLab
    from devkit.sandbox.organisation import github_organisation, gitlab_group
    from evidence.sources.models import Source
    from ledger.models import Entry

    if forge == "github":
        model = github_organisation(TOKEN, repos=repos, pulls=pulls, reviews=reviews)
        server = FakeGitHub(model, enterprise=True).start()
        config = {"organisation": "acme", "branches": ["main"], "seconds_between_requests": 0}
        auth = {"Authorization": f"token {TOKEN}"}
    else:
        server = FakeGitLab(gitlab_group(TOKEN, repos=repos, pulls=pulls, reviews=reviews)).start()
        config = {"group": "acme/platform", "branches": ["main"]}
        auth = {"PRIVATE-TOKEN": TOKEN}
    source = Source.objects.create(
        name=f"bench-{forge}", kind=forge, url=server.url, credential_env="BENCH_FORGE_TOKEN", config=config
    )
    merged = repos * pulls
    try:
        evidence_before = Entry.objects.exclude(kind="harvest.run").count()
        first_time, first_requests, first_appended = harvest_all(source)
        first_log = list(server.log)
        first_raw = replay(server, first_log, auth)
        server.reset_log()
        evidence_mid = Entry.objects.exclude(kind="harvest.run").count()
        rerun_time, rerun_requests, _ = harvest_all(source)
        rerun_log = list(server.log)
        rerun_raw = replay(server, rerun_log, auth)
        rerun_evidence = Entry.objects.exclude(kind="harvest.run").count() - evidence_mid
        per_pull_rerun = sum(1 for r in rerun_log if "/pulls/" in r.path or "/merge_requests/" in r.path)
    finally:
        server.stop()
    return {
        "forge": forge,
        "organisation": f"{repos} repositories x {pulls} merged x {reviews} reviews",
        "first": {
            "seconds": round(first_time, 2),
            "server_alone_seconds": round(first_raw, 2),
            "requests": len(first_log),
            "requests_counted_by_client": first_requests,
            "requests_per_merged_pull": round(len(first_log) / merged, 2),
            "evidence_entries": evidence_mid - evidence_before,
            "appended": first_appended,
        },
        "rerun": {
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
    for forge in ("github", "gitlab") if args.forge == "both" else (args.forge,):
        r = bench(forge, args.repos, args.pulls, args.reviews)
        f, s = r["first"], r["rerun"]
        print(f"\n{forge}: {r['organisation']}")
        print(
            f"  first harvest: {f['seconds']:.2f}s (server alone {f['server_alone_seconds']:.2f}s), "
            f"{f['requests']} requests = {f['requests_per_merged_pull']} per merged request, "
            f"{f['evidence_entries']} evidence entries"
        )
        print(
            f"  rerun, nothing changed: {s['seconds']:.2f}s (server alone {s['server_alone_seconds']:.2f}s), "
            f"{s['requests']} requests = {s['requests_per_merged_pull']} per merged request "
            f"({s['requests_about_one_pull']} about any one of them), {s['evidence_entries']} evidence entries"
        )
        print(json.dumps(r))


if __name__ == "__main__":
    main()
