"""GET /api/v1/dora/: the figures equal an independent recomputation from /api/v1/deployments/ and
/api/v1/pull-requests/; bad parameters are a 400 (random ones never a 500); readers only."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import Entry
from tests.support.dora_world import T0, World

pytestmark = pytest.mark.django_db
H, DAY = timedelta(hours=1), timedelta(days=1)
PERIOD = {"environment": "prod", "since": "2026-03-01T00:00:00Z", "until": "2026-03-29T00:00:00Z"}


def history() -> None:
    """Three weeks of prod: batches, a rollback, a failed sync, and staging beside it."""
    w = World()
    for day in range(0, 21, 2):
        merges = [w.change(T0 + day * DAY + i * H, opened=(i + 1) * 3 * H) for i in range(day % 3 + 1)]
        w.deploy(merges[-1], T0 + day * DAY + 6 * H)
        w.deploy(merges[-1], T0 + day * DAY + 7 * H, environment="staging")
    w.deploy(w.change(T0 + 22 * DAY), T0 + 22 * DAY + H)
    w.deploy(merges[-1], T0 + 22 * DAY + 3 * H)  # rolled back
    w.failed_sync("f" * 40, T0 + 23 * DAY)
    w.append()


def _all(client, path: str, **params) -> list[dict]:
    rows, offset = [], 0
    while True:
        page = client.get(path, {**params, "limit": 1000, "offset": offset}).json()
        rows += page["results"]
        if not page["next"]:
            return rows
        offset += 1000


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_figures_equal_a_recomputation_from_the_deployments_and_pull_requests_apis(auditor):
    history()
    body = auditor.get("/api/v1/dora/", PERIOD).json()
    since, until = _time(PERIOD["since"]), _time(PERIOD["until"])

    deployments = [
        d
        for d in _all(auditor, "/api/v1/deployments/", environment="prod")
        if since <= _time(d["finished_at"] or d["started_at"]) < until
    ]
    live = [d for d in deployments if d["outcome"] in ("succeeded", "degraded", "rolled_back")]
    frequency = body["metrics"]["deployment_frequency"]
    assert frequency["deployments"] == len(live) == 13
    assert frequency["attempts"] == len(deployments) - len(live) == 1
    assert frequency["value"] == f"{len(live) / 28:.3f}"

    # Lead time, recomputed: each deployment ships the PRs merged after the previous deployed
    # head up to its own; opened time is in each PR's entry.
    pulls = sorted(_all(auditor, "/api/v1/pull-requests/"), key=lambda p: p["merged_at"])
    by_merge = {p["merge_commit_sha"]: p for p in pulls}
    shipped, last, leads = set(), None, []
    for d in sorted(live, key=lambda d: d["finished_at"]):
        head = by_merge[d["revision"]]
        new = [head] if last is None else [p for p in pulls if last["merged_at"] < p["merged_at"] <= head["merged_at"]]
        last = head
        for p in new:
            if p["number"] in shipped:
                continue
            shipped.add(p["number"])
            opened = _time(auditor.get(f"/api/v1/entries/{p['entry_seq']}/").json()["envelope"]["data"]["created_at"])
            leads.append((_time(d["finished_at"]) - opened).total_seconds())
    lead = body["metrics"]["change_lead_time"]
    assert lead["samples"] == len(leads) == 23
    assert lead["median"] == f"{statistics.median_low(leads) / 3600:.2f}"

    fail = body["metrics"]["change_fail_rate"]
    assert (fail["failed"], fail["deployments"]) == (1, 13)
    assert body["metrics"]["rework_rate"]["unplanned"] == 1
    assert frequency["edition"].startswith("DORA")


def test_every_sample_cites_entries_that_exist(auditor):
    history()
    body = auditor.get("/api/v1/dora/", {**PERIOD, "limit": 1000}).json()
    samples = body["samples"]["results"]
    assert samples and body["samples"]["count"] == len(samples)
    cited = {seq for s in samples for seq in s["entry_seqs"]}
    assert all(s["entry_seqs"] for s in samples)
    assert Entry.objects.filter(seq__in=cited).count() == len(cited)


def test_samples_are_paged(auditor):
    history()
    first = auditor.get("/api/v1/dora/", {**PERIOD, "limit": 5}).json()["samples"]
    second = auditor.get("/api/v1/dora/", {**PERIOD, "limit": 5, "offset": 5}).json()["samples"]
    assert len(first["results"]) == len(second["results"]) == 5
    assert first["results"] != second["results"] and first["next"]


@pytest.mark.parametrize(
    "params, word",
    [
        ({}, "environment"),
        ({"environment": "prod", "since": "yesterday"}, "since"),
        ({"environment": "prod", "since": "2026-03-02T00:00Z", "until": "2026-03-01T00:00Z"}, "before"),
        ({"environment": "prod", "bucket": "day"}, "bucket"),
        ({"environment": "prod", "since": "2000-01-01T00:00Z", "until": "2026-01-01T00:00Z"}, "longer"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(auditor, params, word):
    response = auditor.get("/api/v1/dora/", params)
    assert response.status_code == 400
    assert word in response.json()["detail"]


def test_only_readers_of_evidence_get_figures(auditor, engineer, outsider, anonymous):
    assert auditor.get("/api/v1/dora/", {"environment": "prod"}).status_code == 200
    assert engineer.get("/api/v1/dora/", {"environment": "prod"}).status_code == 200
    assert outsider.get("/api/v1/dora/", {"environment": "prod"}).status_code == 403
    assert anonymous.get("/api/v1/dora/", {"environment": "prod"}).status_code == 401
    assert auditor.post("/api/v1/dora/", {"environment": "prod"}).status_code == 405


text = st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["2026-03-01T00:00Z", "9999-12-31T23:59Z", "0"]))


@given(environment=text, application=text, since=text, until=text, bucket=text, limit=text, offset=text)
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_parameters_never_answer_a_server_error(auditor, **params):
    query = {k: v for k, v in params.items() if v is not None}
    response = auditor.get("/api/v1/dora/", query)
    assert response.status_code in (200, 400), (query, response.status_code)
    if response.status_code == 400:
        assert "detail" in response.json()
