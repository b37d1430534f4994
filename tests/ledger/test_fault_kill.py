"""Faults an operator will meet: the sequencer killed with SIGKILL mid-batch while four producers
append, and a restore from pg_dump. Nothing accepted is lost, nothing is duplicated, the chain stays
gapless and verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from ledger.keys import load_verifier
from ledger.models import Entry, QueuedEntry
from ledger.sequencer import sequence_pending
from ledger.verification import verify_ledger

from ..conftest import ON_POSTGRES, REDIS_URL, database_url

ROOT = Path(__file__).resolve().parents[2]
needs_postgres_and_redis = pytest.mark.skipif(
    not (ON_POSTGRES and REDIS_URL), reason="kill -9 of the sequencer needs PostgreSQL and Redis (REDIS_URL)"
)

PRODUCER = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from ledger.append import append_entries
    from ledger.envelope import Record
    worker = int(sys.argv[1])
    for batch in range(30):
        # Keys overlap between producers on purpose: a shared fact must land once.
        recs = [Record("test.fact", "p", f"subj/{i % 7}", f"k:{(worker * 700 + batch * 40 + i) % 2400}", {"i": i})
                for i in range(40)]
        append_entries(recs)
    """
)
SEQUENCER = textwrap.dedent(
    """
    import time, django
    django.setup()
    from ledger.sequencer import sequence_pending
    while True:
        sequence_pending(batch_size=400)
        time.sleep(0.005)
    """
)


def expected_keys() -> set[str]:
    return {f"k:{(w * 700 + b * 40 + i) % 2400}" for w in range(4) for b in range(30) for i in range(40)}


@needs_postgres_and_redis
def test_it_loses_and_duplicates_nothing_when_the_sequencer_is_killed_mid_batch(committed_db, ledger_key, settings):
    # Producers have a broker, so they only queue (durably) and notify; no worker listens, so the only
    # sequencer is the process this test keeps killing with SIGKILL and starting again.
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY}
    env["LEDGER_CHECKPOINT_DIR"] = settings.LEDGER_CHECKPOINT_DIR  # this test's notes, not the project's var/
    producers = [
        subprocess.Popen([sys.executable, "-c", PRODUCER, str(w)], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        for w in range(4)
    ]
    kills = 0
    rng = random.Random(7)
    while any(p.poll() is None for p in producers) or kills < 3:
        sequencer = subprocess.Popen([sys.executable, "-c", SEQUENCER], cwd=ROOT, env=env)
        time.sleep(rng.uniform(0.4, 1.2))
        sequencer.send_signal(signal.SIGKILL)
        sequencer.wait(timeout=30)
        kills += 1
        if kills > 60:
            break
    for proc in producers:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]

    sequence_pending()  # what the beat sweep does after the crash

    keys = list(Entry.objects.order_by("seq").values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)), "a fact was sequenced twice"
    assert set(keys) == expected_keys(), "an accepted fact was lost"
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(len(keys)))
    assert QueuedEntry.objects.count() == 0
    report = verify_ledger(load_verifier())
    assert report.ok, report.line()
    assert kills >= 3


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump and pg_restore need PostgreSQL")
def test_it_verifies_a_ledger_restored_from_pg_dump_into_a_new_database(committed_db, ledger_key, settings, tmp_path):
    from ledger.append import append_entries
    from ledger.checkpoints import sign_checkpoint
    from tests.ledger.helpers import records

    append_entries(records(120))
    sign_checkpoint()
    append_entries(records(30, start=120))
    dump = tmp_path / "ledger.dump"
    source_url = database_url()
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source_url], check=True, timeout=120)

    s = connection.settings_dict
    server = f"postgres://{s['USER'] or 'root'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    restored = f"restored_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", s["HOST"] or "127.0.0.1", "-U", s["USER"] or "root", restored], check=True)
    try:
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={server}/{restored}", str(dump)], check=True)
        env = {**os.environ, "DATABASE_URL": f"{server}/{restored}", "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY}
        env["LEDGER_CHECKPOINT_DIR"] = settings.LEDGER_CHECKPOINT_DIR  # held against this test's checkpoint only
        env.pop("REDIS_URL", None)
        result = subprocess.run(
            [sys.executable, "manage.py", "verify_ledger"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "150" in result.stdout  # every entry, the unsigned tail included, was checked
    finally:
        subprocess.run(["dropdb", "-h", s["HOST"] or "127.0.0.1", "-U", s["USER"] or "root", restored], check=False)
