"""With Redis, a source harvest fans out one task per repository to a real Celery worker."""

from __future__ import annotations

import pytest

from evidence.sources.models import HarvestRun, Source
from evidence.sources.tasks import harvest_source
from ledger.models import Entry
from tests.support.forge_fixtures import GITHUB_TOKEN, REPO

from ..conftest import celery_worker, needs_worker, wait_for


@pytest.fixture
def worker(committed_db, broker, settings):
    with celery_worker(LEDGER_SIGNING_KEY=settings.LEDGER_SIGNING_KEY, ACME_GITHUB_TOKEN=GITHUB_TOKEN) as proc:
        yield proc


def finished(runs: int) -> bool:
    return HarvestRun.objects.filter(status="succeeded").count() == runs


@needs_worker
def test_it_harvests_each_repository_in_its_own_task_and_a_rerun_adds_nothing(worker, fake_github, github_model):
    github_model.add_repository("acme/ledger")
    github_model.add_merged_pull("acme/ledger", 7, author="zoe", merged_by="bob", merged_at="2026-03-03T10:00:00Z")
    source = Source.objects.create(
        name="acme-github",
        kind="github",
        url=fake_github.url,
        credential_env="ACME_GITHUB_TOKEN",
        config={"repositories": [REPO, "acme/ledger"], "branches": ["main"], "seconds_between_requests": 0},
    )

    harvest_source.delay(source.pk)

    assert wait_for(lambda: finished(2)), worker.stderr.read1().decode()
    assert set(HarvestRun.objects.values_list("target", flat=True)) == {REPO, "acme/ledger"}
    assert wait_for(lambda: Entry.objects.filter(kind="github.pull_request").count() == 4)
    evidence = Entry.objects.exclude(kind="harvest.run").count()

    harvest_source.delay(source.pk)

    assert wait_for(lambda: finished(4) and Entry.objects.filter(kind="harvest.run").count() == 4)
    assert Entry.objects.exclude(kind="harvest.run").count() == evidence
