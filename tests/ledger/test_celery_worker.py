"""With Redis, appends are queued durably and a real Celery worker sequences them."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.append import append_entries
from ledger.models import Entry, QueuedEntry
from ledger.sequencer import sequence_pending

from ..conftest import ON_POSTGRES
from .helpers import records
from .test_concurrent_producers import database_url

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.fixture
def worker(committed_db, broker, settings):
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


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not (REDIS_URL and ON_POSTGRES), reason="needs PostgreSQL and Redis (REDIS_URL)")
def test_it_sequences_through_a_real_worker(worker, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    results = append_entries(records(25))
    assert all(r.created for r in results)
    assert wait_for(lambda: Entry.objects.count() == 25), worker.stderr.read1().decode()
    assert QueuedEntry.objects.count() == 0
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(25))


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL for committed appends from this process")
def test_it_keeps_appends_when_the_broker_is_down(committed_db, broker, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    broker.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        results = append_entries(records(3))
    finally:
        broker.conf.broker_url = REDIS_URL or "memory://"
    assert all(r.created for r in results)
    assert QueuedEntry.objects.count() == 3  # durable, waiting for the sweep
    assert sequence_pending() == 3
    assert Entry.objects.count() == 3
