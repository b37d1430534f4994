"""Several producer processes at once still make one gapless, fork-free log."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ledger.keys import load_verifier
from ledger.models import Entry, QueuedEntry
from ledger.sequencer import sequence_pending
from ledger.verification import verify_ledger

from ..conftest import ON_POSTGRES, database_url

ROOT = Path(__file__).resolve().parents[2]

PRODUCER = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from ledger.append import append_entries
    from ledger.envelope import Record
    worker = int(sys.argv[1])
    for batch in range(10):
        # Keys overlap between workers on purpose: shared facts must land once.
        recs = [Record("test.fact", "p", f"subj/{i % 7}", f"k:{(worker * 150 + batch * 20 + i) % 400}", {"i": i})
                for i in range(20)]
        append_entries(recs)
    """
)


@pytest.mark.skipif(not ON_POSTGRES, reason="several writer processes at once need PostgreSQL")
def test_it_makes_one_gapless_chain_from_four_concurrent_producers(committed_db, ledger_key, settings):
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("REDIS_URL", None)  # each producer also runs the sequencer inline, so sequencers contend too
    env["LEDGER_SIGNING_KEY"] = settings.LEDGER_SIGNING_KEY
    env["LEDGER_CHECKPOINT_DIR"] = settings.LEDGER_CHECKPOINT_DIR  # producers sign inline: not into var/
    procs = [
        subprocess.Popen([sys.executable, "-c", PRODUCER, str(w)], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        for w in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
    sequence_pending()
    seqs = list(Entry.objects.order_by("seq").values_list("seq", flat=True))
    expected_keys = {f"k:{(w * 150 + b * 20 + i) % 400}" for w in range(4) for b in range(10) for i in range(20)}
    assert seqs == list(range(len(expected_keys)))
    assert set(Entry.objects.values_list("idempotency_key", flat=True)) == expected_keys
    assert QueuedEntry.objects.count() == 0
    report = verify_ledger(load_verifier())
    assert report.ok, report.line()
