"""A Celery harvest worker killed with SIGKILL mid-harvest (four pool processes harvesting a slow
sandbox forge), started again and the harvest run again: nothing lost, nothing duplicated, one
gapless chain that verifies.

A harvester writes nothing until its records are complete, and their append is one transaction,
so a kill leaves either all of a repository's records or none, and the cursor moves only past
what committed. The messages the dead worker held stay unacknowledged in Redis until the
visibility timeout (an hour) gives them to another worker; the harvest that follows does not wait.
"""

from __future__ import annotations

import pytest

from devkit.sandbox.github import FakeGitHub, GitHubModel
from evidence.sources.harvest import harvest_target
from evidence.sources.models import HarvestCursor, HarvestRun, Source
from evidence.sources.tasks import harvest_source
from ledger.keys import load_verifiers
from ledger.models import Entry, QueuedEntry
from ledger.verification import verify_ledger
from tests.support.processes import kill_group, process_env, redis_server, start_worker, stop_group

from ..conftest import ON_POSTGRES, wait_for

TOKEN = "ghs_fault_test_token"
REPOSITORIES = [f"acme/svc-{i}" for i in range(8)]
PULLS = 3  # merged pull requests per repository, each with one approval


@pytest.fixture
def slow_forge():
    model = GitHubModel(tokens={TOKEN})
    for full_name in REPOSITORIES:
        model.add_repository(full_name)
        for number in range(1, PULLS + 1):
            model.add_merged_pull(
                full_name,
                number,
                author="alice",
                merged_by="bob",
                merged_at=f"2026-03-0{number}T10:00:00Z",
                approvers=("carol",),
            )
    server = FakeGitHub(model, enterprise=True).start()
    server.latency = 0.08  # a harvest of one repository takes about a second: long enough to be cut
    yield server
    server.stop()


def runs(**filters):
    return HarvestRun.objects.filter(**filters)


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="four worker processes need PostgreSQL")
def test_it_loses_and_duplicates_nothing_when_a_harvest_worker_is_killed_mid_harvest(
    committed_db, broker, ledger_key, slow_forge, tmp_path, monkeypatch, settings
):
    source = Source.objects.create(
        name="acme-github",
        kind="github",
        url=slow_forge.url,
        credential_env="ACME_GITHUB_TOKEN",
        config={"repositories": REPOSITORIES, "branches": ["main"], "seconds_between_requests": 0},
    )
    with redis_server(tmp_path) as redis:
        env = process_env(redis.url, ACME_GITHUB_TOKEN=TOKEN)
        with broker.connection_for_write(redis.url) as conn:
            worker = start_worker(env, concurrency=4)
            try:
                harvest_source.apply_async([source.pk], connection=conn)
                # Mid-harvest: some repositories done and committed, four others in flight.
                assert wait_for(
                    lambda: runs(status="succeeded").exists() and runs(finished_at__isnull=True).count() >= 4, 60
                ), worker.stderr.read1().decode()  # type: ignore[union-attr]
            finally:
                kill_group(worker)
            cut = set(runs(finished_at__isnull=True).values_list("pk", flat=True))
            assert cut, "the kill should have cut harvests short"

            worker = start_worker(env, concurrency=4)
            try:
                harvest_source.apply_async([source.pk], connection=conn)
                harvested = lambda: (  # noqa: E731
                    set(runs(status="succeeded", pk__gt=max(cut)).values_list("target", flat=True)) == set(REPOSITORIES)
                    and not runs(finished_at__isnull=True).exclude(pk__in=cut).exists()
                    and redis.queued() == 0
                    and not QueuedEntry.objects.exists()
                )
                assert wait_for(harvested, 180), worker.stderr.read1().decode()  # type: ignore[union-attr]
            finally:
                stop_group(worker)

    keys = list(Entry.objects.order_by("seq").values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)), "a fact was sequenced twice"
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(len(keys)))
    pulls = set(Entry.objects.filter(kind="github.pull_request").values_list("subject", flat=True))
    assert pulls == {f"github:{r}#{n}" for r in REPOSITORIES for n in range(1, PULLS + 1)}
    # Nothing lost: a full harvest from scratch (cursors forgotten) finds no evidence the ledger lacks.
    HarvestCursor.objects.all().delete()
    slow_forge.latency = 0
    monkeypatch.setenv("ACME_GITHUB_TOKEN", TOKEN)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # this last harvest inline, in the test
    assert [harvest_target(source, r).appended for r in REPOSITORIES] == [0] * len(REPOSITORIES)
    report = verify_ledger(load_verifiers())
    assert report.ok, report.line()
