"""A real Redis outage while GitHub webhooks arrive at the web service (gunicorn): each delivery is
answered 202 and durable in the ledger's queue; once Redis is back, the beat's sweeps sequence
every accepted delivery and the scheduled harvest (harvest_due) does the re-harvest that the
outage lost (Redis restarts empty: the re-harvest requests were never queued).

The broker is a private redis-server the test stops and starts on the same port.
"""

from __future__ import annotations

import json

import pytest
import requests
from django.conf import settings

from devkit.sandbox.github import FakeGitHub, GitHubModel
from evidence.sources.models import HarvestRun, Source
from ledger.keys import load_verifiers
from ledger.models import Entry, QueuedEntry
from ledger.verification import verify_ledger
from tests.support.processes import gunicorn, process_env, redis_server, start_worker, stop_group

from ..conftest import ON_POSTGRES, wait_for
from .hooks import GITHUB_SECRET, REPO, credential_for, delivery_headers, valid

TOKEN = "ghs_outage_test_token"
DELIVERIES = [f"outage-{i}" for i in range(5)]


@pytest.fixture
def forge():
    model = GitHubModel(tokens={TOKEN})
    model.add_repository(REPO)
    model.add_merged_pull(
        REPO, 3, author="alice", merged_by="bob", merged_at="2026-03-01T12:00:00Z", approvers=("carol",)
    )
    server = FakeGitHub(model, enterprise=True).start()
    yield server
    server.stop()


def deliver(base_url: str, number: int, delivery: str) -> requests.Response:
    payload = valid("github")
    payload["review"]["id"] = 8800 + number  # five distinct reviews: five facts
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **delivery_headers("github", delivery)}
    headers.update(credential_for("github", body))
    return requests.post(f"{base_url}/hooks/github/", data=body, headers=headers, timeout=60)


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="the web service and the worker share a PostgreSQL database")
def test_every_delivery_accepted_during_a_redis_outage_is_in_the_ledger_and_re_harvested_after(
    committed_db, broker, ledger_key, forge, tmp_path
):
    source = Source.objects.create(
        name="acme-github",
        kind="github",
        url=forge.url,
        credential_env="ACME_GITHUB_TOKEN",
        config={"repositories": [REPO], "branches": ["main"], "seconds_between_requests": 0},
    )
    with redis_server(tmp_path) as redis:
        env = process_env(redis.url, ACME_GITHUB_TOKEN=TOKEN, GITHUB_WEBHOOK_SECRET=GITHUB_SECRET)
        with gunicorn(env) as web:
            redis.stop()  # the outage

            answers = [deliver(web, i, delivery) for i, delivery in enumerate(DELIVERIES)]

            assert [a.status_code for a in answers] == [202] * len(DELIVERIES), [a.text for a in answers]
            assert all(a.json()["status"] == "recorded" for a in answers)
            queued = set(QueuedEntry.objects.values_list("idempotency_key", flat=True))
            assert queued == {f"github:delivery:{d}" for d in DELIVERIES}  # durable, waiting for a sequencer
            assert not HarvestRun.objects.exists()

            redis.start()  # back, and empty: the outage lost the sequencer's and re-harvest's messages
            assert redis.queued() == 0
            worker = start_worker(env)
            try:
                with broker.connection_for_write(redis.url) as conn:
                    for entry in settings.CELERY_BEAT_SCHEDULE.values():  # one round of the beat, as it sends them
                        broker.send_task(entry["task"], connection=conn)
                done = lambda: (  # noqa: E731
                    not QueuedEntry.objects.exists()
                    and HarvestRun.objects.filter(source=source, target=REPO, status="succeeded").exists()
                    and Entry.objects.filter(kind="github.pull_request", subject=f"github:{REPO}#3").exists()
                    and redis.queued() == 0
                )
                assert wait_for(done, 120), worker.stderr.read1().decode()  # type: ignore[union-attr]
            finally:
                stop_group(worker)
            assert deliver(web, 0, DELIVERIES[0]).json()["status"] == "duplicate"  # the sender retrying

    keys = set(Entry.objects.values_list("idempotency_key", flat=True))
    assert {f"github:delivery:{d}" for d in DELIVERIES} <= keys
    seqs = list(Entry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(len(seqs)))
    report = verify_ledger(load_verifiers())
    assert report.ok, report.line()
