"""With Redis, a source harvest fans out one task per repository to a real Celery worker."""

# ruff: noqa: F811 -- fixtures imported from forge_fixtures are requested by name as arguments

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evidence.models import HarvestRun, Source
from evidence.tasks import harvest_source
from ledger.models import Entry

from ..conftest import ON_POSTGRES
from ..ledger.test_concurrent_producers import database_url
from .forge_fixtures import GITHUB_TOKEN, REPO, fake_github, github_model  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.fixture
def worker(committed_db, broker, settings, monkeypatch):
    monkeypatch.setenv("ACME_GITHUB_TOKEN", GITHUB_TOKEN)
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def finished(runs: int) -> bool:
    return HarvestRun.objects.filter(status="succeeded").count() == runs


def wait_for(predicate, timeout=90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.skipif(not (REDIS_URL and ON_POSTGRES), reason="needs PostgreSQL and Redis (REDIS_URL)")
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
