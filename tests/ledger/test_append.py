"""The one write path: validation, idempotency, sequencing and the hashes it stores."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledger import merkle
from ledger.append import append_entries, append_entry
from ledger.envelope import EnvelopeError, Record
from ledger.models import Entry, Head, QueuedEntry, TreeNode
from ledger.sequencer import sequence_pending

from ..conftest import ON_POSTGRES
from .helpers import record, records

pytestmark = pytest.mark.django_db


def test_it_gives_consecutive_seqs_from_zero():
    results = append_entries(records(5))
    assert [r.seq for r in results] == [0, 1, 2, 3, 4]
    assert all(r.created for r in results)
    assert QueuedEntry.objects.count() == 0  # all sequenced inline (no broker)


def test_it_returns_the_existing_entry_for_a_repeated_key_and_adds_nothing():
    first = append_entry(record(1))
    again = append_entry(record(1, extra="changed content, same source identity"))
    assert again.seq == first.seq and not again.created
    assert Entry.objects.count() == 1


def test_it_stores_the_canonical_bytes_and_hashes_them_exactly_as_stored():
    append_entries(records(3))
    chain = merkle.GENESIS_CHAIN
    for entry in Entry.objects.order_by("seq"):
        payload = bytes(entry.payload)
        assert bytes(entry.leaf_hash) == merkle.leaf_hash(payload)
        chain = merkle.chain_hash(chain, merkle.leaf_hash(payload))
        assert bytes(entry.chain_hash) == chain
        assert entry.envelope["kind"] == "test.fact" and entry.envelope["v"] == 1
        assert payload.startswith(b'{"data":')  # keys sorted, no white space


def test_it_keeps_the_head_and_stored_tree_equal_to_a_fresh_computation():
    append_entries(records(11))
    append_entries(records(6, start=11))
    head = Head.objects.get()
    leaves = [bytes(x) for x in Entry.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    assert head.size == 17
    assert bytes(head.root) == merkle.root_of(leaves)
    assert TreeNode.objects.count() == 17 - bin(17).count("1")  # n minus the set bits of n complete nodes


def test_it_counts_one_fact_once_when_a_batch_repeats_it():
    results = append_entries([record(1), record(2), record(1)])
    assert [r.seq for r in results] == [0, 1, 0]
    assert Entry.objects.count() == 2


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (Record("test.fact", "s", "subj", "k-float", {"cost": 1.5}), "floats are not allowed"),
        (Record("test.fact", "s", "subj", "k-sur", {"text": "\ud83d"}), "lone surrogate"),
        (Record("test.fact", "s", "subj", "k-obj", {"when": datetime.now(UTC)}), "datetime is not JSON"),
        (Record("", "s", "subj", "k-kind", {}), "kind"),
        (Record("Not A Kind", "s", "subj", "k-kind2", {}), "kind"),
        (Record("test.fact", "s", "", "k-subj", {}), "subject: missing"),
        (Record("test.fact", "s", "subj", "", {}), "idempotency_key: missing"),
        (Record("test.fact", "s", "subj", "k-big", {"blob": "x" * (1024 * 1024)}), "over the limit"),
        (Record("test.fact", "s", "subj", "k-naive", {}, observed_at=datetime(2026, 1, 1)), "timezone-aware"),
    ],
)
def test_it_refuses_a_bad_record_and_writes_nothing_of_its_batch(bad, message):
    with pytest.raises(EnvelopeError, match=message):
        append_entries([record(1), bad, record(2)])
    assert Entry.objects.count() == 0 and QueuedEntry.objects.count() == 0


def test_it_names_the_record_that_was_refused():
    with pytest.raises(EnvelopeError, match=r"record 1 \(test.fact subj\)"):
        append_entries([record(0), Record("test.fact", "s", "subj", "k", {"x": 0.1})])


def test_it_sequences_records_queued_while_no_sequencer_ran(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a broker: accepted, queued, not yet sequenced
    settings.CELERY_BROKER_URL = "memory://"
    from django.db import transaction

    with transaction.atomic():  # keep on_commit (the task send) from firing
        results = append_entries(records(4))
        assert all(r.created and r.seq is None for r in results)
        assert QueuedEntry.objects.count() == 4 and Entry.objects.count() == 0
        transaction.set_rollback(False)
    assert sequence_pending() == 4
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == [0, 1, 2, 3]


def test_it_sequences_records_queued_earlier_before_an_inline_append_and_its_queued_keys_once(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    append_entries(records(3))  # queued, never sequenced: the task is sent on a commit the test never makes
    settings.CELERY_TASK_ALWAYS_EAGER = True  # now no broker: inline, as the embedded default runs

    results = append_entries(records(5, start=1))  # keys 1 and 2 are among those queued

    assert [(r.seq, r.created) for r in results] == [(1, False), (2, False), (3, True), (4, True), (5, True)]
    keys = list(Entry.objects.order_by("seq").values_list("idempotency_key", flat=True))
    assert keys == [r.idempotency_key for r in append_entries(records(6))]  # queued ones first, each once
    assert QueuedEntry.objects.count() == 0
    head = Head.objects.get()
    leaves = [bytes(x) for x in Entry.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    assert head.size == 6 and bytes(head.root) == merkle.root_of(leaves)


def test_it_drops_a_queued_duplicate_of_an_entry_already_sequenced(settings):
    append_entry(record(1))
    # A producer that raced the sequencer may queue a key that is already in the log.
    from django.utils import timezone

    from ledger.envelope import seal

    sealed = seal(record(1))
    QueuedEntry.objects.create(
        idempotency_key=sealed.record.idempotency_key, kind="test.fact", source="s", subject="x",
        observed_at=timezone.now(), payload=sealed.payload, queued_at=timezone.now(),
    )  # fmt: skip
    assert sequence_pending() == 0
    assert Entry.objects.count() == 1 and QueuedEntry.objects.count() == 0


def _queue_raw(rec, leaf=None):
    """Queue a sealed record behind the producers' back (as one that raced the sequencer would)."""
    from django.utils import timezone

    from ledger.envelope import seal

    sealed = seal(rec)
    QueuedEntry.objects.create(
        idempotency_key=sealed.record.idempotency_key, kind=rec.kind, source=rec.source, subject=rec.subject,
        observed_at=timezone.now(), payload=sealed.payload, queued_at=timezone.now(), leaf_hash=leaf,
    )  # fmt: skip


def test_a_duplicate_in_a_batch_does_not_hold_back_the_new_entries_beside_it(settings):
    append_entry(record(0))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    from django.db import transaction

    with transaction.atomic():  # queued, not yet sequenced
        append_entries([record(1)])
        _queue_raw(record(0))  # already in the log: on PostgreSQL the first move fails on the unique key
        append_entries([record(2), record(3)])
    assert sequence_pending() == 3
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == [0, 1, 2, 3]
    assert QueuedEntry.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite hashes each payload in the sequencer; only PostgreSQL queues leaves"
)
def test_a_queued_leaf_hash_that_does_not_match_its_payload_is_refused():
    from ledger.sequencer import SequencerConflict

    _queue_raw(record(0), leaf=b"\x00" * 32)
    with pytest.raises(SequencerConflict):
        sequence_pending()
    assert Entry.objects.count() == 0 and QueuedEntry.objects.count() == 1


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2))),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_it_writes_envelope_times_as_utc_with_microseconds(when):
    from ledger.envelope import format_time, parse_time

    assert format_time(when) == when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert parse_time(format_time(when)) == when
