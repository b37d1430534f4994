"""The one write path for producers: validate, canonicalise and queue records durably.

A record is accepted once its queue row commits. The sequencer then gives it a seq. With no
broker (REDIS_URL unset) the sequencer runs inline before this returns (on SQLite, the embedded
default, the records go straight into the log in the accepting transaction: a queue row would be
inserted and deleted in it), and on commit a checkpoint is signed when one is due (see
checkpoints.sign_checkpoint_if_due); with one, a task is sent on commit, and the beat schedule sweeps
the queue and signs checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .envelope import EnvelopeError, Record, Sealed, seal
from .merkle import leaf_hash
from .models import QueuedEntry
from .store import seqs_by_key, sqlite_datetime


@dataclass(frozen=True)
class Appended:
    idempotency_key: str
    created: bool  # False: the key was already queued or sequenced; nothing new was written
    seq: int | None  # known once sequenced


def append_entry(record: Record) -> Appended:
    return append_entries([record])[0]


def append_entries(records: Sequence[Record]) -> list[Appended]:
    """Queue records; a repeated idempotency key returns the existing entry and adds nothing.

    Raises EnvelopeError (naming the record and field) before anything is written.
    """
    sealed = _seal_all(records)
    if not sealed:
        return []
    try:
        existing, inserted = _store(sealed, copy=len(sealed) >= COPY_FROM)
    except _QueuedMeanwhile:
        # Another producer queued one of these keys after our look-up: do it again, the slow way,
        # which skips keys already queued and tells which ones this call added.
        existing, inserted = _store(sealed, copy=False)
    out: list[Appended] = []
    for record in records:  # one answer per record given, in order; a repeat in the batch is not "created"
        key = record.idempotency_key
        out.append(Appended(key, key in inserted, existing.get(key)))
        inserted.discard(key)
    return out


# From this many records on, PostgreSQL gets the batch by binary COPY (about twice as fast as
# INSERT ... ON CONFLICT: bench/ledger.py); a key queued meanwhile then fails the COPY and the batch
# is redone with INSERT. Smaller batches (webhooks, single facts) take the INSERT at once.
COPY_FROM = 32


class _QueuedMeanwhile(Exception):
    """A COPY met a key that another producer queued after this one looked: nothing was written."""


def _store(sealed: list[Sealed], copy: bool) -> tuple[dict[str, int], set[str]]:
    """In one transaction: skip keys already sequenced, queue the rest, sequence inline when there
    is no broker. Returns ({key: seq} of what is known, keys this call queued)."""
    keys = [s.record.idempotency_key for s in sealed]  # unique: _seal_all drops in-batch repeats
    inline = settings.CELERY_TASK_ALWAYS_EAGER
    with transaction.atomic():
        if inline and connection.vendor == "sqlite":
            # The embedded default (one writer, no broker): records queued earlier first, then these
            # straight into the log in this transaction, so an append costs one commit (one fsync).
            from .sequencer import sequence_inline, sequence_pending

            sequence_pending()
            existing = seqs_by_key(keys)
            fresh = [s for s in sealed if s.record.idempotency_key not in existing]
            placed = sequence_inline(fresh)
            existing.update(placed)
            inserted = set(placed)
            if inserted:
                transaction.on_commit(_sign_if_due, robust=True)
            return existing, inserted
        existing = seqs_by_key(keys)
        fresh = [s for s in sealed if s.record.idempotency_key not in existing]
        inserted = _queue(fresh, copy and connection.vendor == "postgresql")
        if inserted and inline:
            # No broker (PostgreSQL in tests): sequence in the same transaction, one commit.
            from .sequencer import sequence_pending

            sequence_pending()
            existing.update(seqs_by_key([key for key in keys if key not in existing]))  # queued earlier too
            # No beat schedule either: sign when the unsigned tail is long or old (cheap when not due).
            transaction.on_commit(_sign_if_due, robust=True)
        elif inserted:
            # robust: a broker outage must not fail an append that is already durable; the beat sweep
            # (ledger.tasks.sequence every 10 s) sequences what was queued meanwhile.
            transaction.on_commit(_notify_sequencer, robust=True)
    return existing, inserted


def _seal_all(records: Sequence[Record]) -> list[Sealed]:
    limit = settings.LEDGER_MAX_PAYLOAD_BYTES
    out: list[Sealed] = []
    seen: set[str] = set()
    for i, record in enumerate(records):
        if not isinstance(record, Record):
            raise EnvelopeError(f"record {i}: expected ledger.envelope.Record, got {type(record).__name__}")
        try:
            item = seal(record, limit)
        except EnvelopeError as exc:
            raise EnvelopeError(f"record {i} ({record.kind} {record.subject}): {exc}") from None
        if item.record.idempotency_key in seen:
            continue  # the same fact twice in one batch is one fact
        seen.add(item.record.idempotency_key)
        out.append(item)
    return out


def _queue(items: list[Sealed], copy: bool) -> set[str]:
    """Insert into the queue, skipping keys already there; return the keys this call inserted.

    copy (PostgreSQL): binary COPY, all or nothing; raises _QueuedMeanwhile when a key is there.
    """
    if not items:
        return set()
    now = timezone.now()
    rows = [
        (
            s.record.idempotency_key,
            s.record.kind,
            s.record.source,
            s.record.subject,
            s.record.observed_at,
            s.record.occurred_at,
            s.payload,
            leaf_hash(s.payload),
            now,
        )
        for s in items
    ]
    table = QueuedEntry._meta.db_table
    columns = "idempotency_key, kind, source, subject, observed_at, occurred_at, payload, leaf_hash, queued_at"
    inserted: set[str] = set()
    with connection.cursor() as cursor:
        if copy:
            try:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as stream:
                    stream.set_types(COPY_TYPES)
                    for row in rows:
                        stream.write_row(row)
            except psycopg.errors.UniqueViolation:
                raise _QueuedMeanwhile from None
            inserted = {r[0] for r in rows}
        elif connection.vendor == "postgresql":
            # One round trip per batch; RETURNING tells which keys were new. A server-binding psycopg
            # cursor sends the arrays as binary parameters (%b) instead of quoting bytea literals client-side.
            with psycopg.Cursor(cursor.connection) as raw:
                raw.execute(
                    f"INSERT INTO {table} ({columns}) "
                    "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], "
                    "%b::timestamptz[], %b::timestamptz[], %b::bytea[], %b::bytea[], %b::timestamptz[]) "
                    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key",
                    [list(col) for col in zip(*rows, strict=True)],
                )
                inserted = {row[0] for row in raw.fetchall()}
        else:
            # SQLite: the IMMEDIATE transaction holds the only write lock, so "not already queued" stays
            # true until commit; one executemany beats a round trip per row.
            placeholders = ", ".join(["%s"] * len(rows))
            cursor.execute(
                f"SELECT idempotency_key FROM {table} WHERE idempotency_key IN ({placeholders})", [r[0] for r in rows]
            )
            queued = {row[0] for row in cursor.fetchall()}
            fresh = [
                (*r[:4], sqlite_datetime(r[4]), sqlite_datetime(r[5]), r[6], r[7], sqlite_datetime(r[8]))
                for r in rows
                if r[0] not in queued
            ]
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", fresh)
            inserted = {r[0] for r in fresh}
    return inserted


COPY_TYPES = ["text", "text", "text", "text", "timestamptz", "timestamptz", "bytea", "bytea", "timestamptz"]


def _sign_if_due() -> None:
    from .checkpoints import sign_checkpoint_if_due

    sign_checkpoint_if_due()


def _notify_sequencer() -> None:
    from .tasks import sequence

    sequence.delay()
