"""With Redis, appends are queued durably and a real Celery worker sequences them."""

import pytest

from ledger.append import append_entries
from ledger.models import Entry, QueuedEntry
from ledger.sequencer import sequence_pending

from ..conftest import ON_POSTGRES, REDIS_URL, celery_worker, needs_worker, wait_for
from .helpers import records


@pytest.fixture
def worker(committed_db, broker, settings):
    with celery_worker(LEDGER_SIGNING_KEY=settings.LEDGER_SIGNING_KEY) as proc:
        yield proc


@needs_worker
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
