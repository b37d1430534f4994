"""The sequencer: moves queued records into the log, one batch per transaction.

Under the head-row lock it assigns consecutive seqs, computes leaf, chain and tree hashes, stores
the entries and the Merkle nodes they complete, deletes the queue rows, and moves the head with a
compare-and-swap on (size, root). Two sequencers never interleave; a crash rolls the batch back
whole, and the queue rows are still there for the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from .merkle import EMPTY_ROOT, GENESIS_CHAIN, chain_hash, leaf_hash
from .models import Entry, Head, QueuedEntry, TreeNode
from .signals import sequenced
from .store import load_frontier, seqs_by_key, sqlite_datetime

log = logging.getLogger(__name__)

BATCH_SIZE = 2000


class SequencerConflict(RuntimeError):
    """The head moved under us: the batch was rolled back and may simply be retried."""


class HeadMismatch(RuntimeError):
    """The head row disagrees with the stored entries or tree: nothing is sequenced onto it.

    The chain continues from the last entry, never from the head row's word, so a moved head
    cannot make the next genuine entry look tampered; the queue keeps the records meanwhile.
    """


@dataclass(frozen=True)
class HeadState:
    size: int
    root: bytes
    chain: bytes


def sequence_pending(batch_size: int = BATCH_SIZE) -> int:
    """Sequence everything queued; return how many entries were added."""
    total = 0
    while True:
        added, drained = _sequence_batch(batch_size)
        total += added
        if drained:
            return total


def _lock_head(cursor: CursorWrapper) -> HeadState:
    table = Head._meta.db_table
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    cursor.execute(f"SELECT size, root, chain_hash FROM {table} WHERE id = 1{lock}")
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            f"INSERT INTO {table} (id, size, root, chain_hash, updated_at) VALUES (1, 0, %s, %s, %s) "
            "ON CONFLICT (id) DO NOTHING",
            [EMPTY_ROOT, GENESIS_CHAIN, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        cursor.execute(f"SELECT size, root, chain_hash FROM {table} WHERE id = 1{lock}")
        row = cursor.fetchone()
    return HeadState(int(row[0]), bytes(row[1]), bytes(row[2]))


def _sequence_batch(batch_size: int) -> tuple[int, bool]:
    queue = QueuedEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        head = _lock_head(cursor)
        cursor.execute(
            f"SELECT id, idempotency_key, kind, source, subject, observed_at, occurred_at, payload "
            f"FROM {queue} ORDER BY id LIMIT %s",
            [batch_size],
        )
        rows = cursor.fetchall()
        if not rows:
            return 0, True
        done = seqs_by_key([r[1] for r in rows])
        frontier = load_frontier(head.size)
        _check_head(cursor, head, frontier.root())
        now = timezone.now()
        entries: list[tuple[Any, ...]] = []
        nodes: list[tuple[int, int, bytes]] = []
        chain = head.chain
        seen: set[str] = set()
        for _id, key, kind, source, subject, observed_at, occurred_at, payload in rows:
            if key in done or key in seen:
                continue  # queued again after it was sequenced: already in the log
            seen.add(key)
            payload = bytes(payload)
            leaf = leaf_hash(payload)
            chain = chain_hash(chain, leaf)
            seq = frontier.size
            nodes.extend(frontier.append(leaf))
            entries.append((seq, key, kind, source, subject, observed_at, occurred_at, payload, leaf, chain, now))
        root = frontier.root()
        _insert(cursor, entries, nodes)
        _delete_queued(cursor, [r[0] for r in rows])
        _move_head(cursor, head, HeadState(frontier.size, root, chain), now)
        if entries:
            first, last = entries[0][0], entries[-1][0]
            # robust: a listener's failure (say, a broker outage) must not undo or hide a committed batch
            transaction.on_commit(lambda: sequenced.send(sender=Entry, first_seq=first, last_seq=last), robust=True)
    return len(entries), len(rows) < batch_size


def _check_head(cursor: CursorWrapper, head: HeadState, root: bytes) -> None:
    last = GENESIS_CHAIN
    if head.size:
        cursor.execute(f"SELECT chain_hash FROM {Entry._meta.db_table} WHERE seq = %s", [head.size - 1])
        row = cursor.fetchone()
        last = bytes(row[0]) if row else b""
    if last != head.chain or root != head.root:
        what = "chain hash" if last != head.chain else "root"
        raise HeadMismatch(
            f"head row (size {head.size}) has another {what} than the stored log; nothing sequenced: run verify_ledger"
        )


def _insert(cursor: CursorWrapper, entries: list[tuple[Any, ...]], nodes: list[tuple[int, int, bytes]]) -> None:
    entry_table, node_table = Entry._meta.db_table, TreeNode._meta.db_table
    entry_columns = (
        "seq, idempotency_key, kind, source, subject, observed_at, occurred_at, payload, leaf_hash, "
        "chain_hash, sequenced_at"
    )
    if connection.vendor == "postgresql":
        raw = cursor.cursor  # the psycopg cursor, inside the same transaction
        with raw.copy(f"COPY {entry_table} ({entry_columns}) FROM STDIN") as copy:
            for row in entries:
                copy.write_row(row)
        if nodes:
            with raw.copy(f"COPY {node_table} (level, index, hash) FROM STDIN") as copy:
                for row in nodes:
                    copy.write_row(row)
        return
    adapt = sqlite_datetime
    cursor.executemany(
        f"INSERT INTO {entry_table} ({entry_columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [(*r[:5], adapt(r[5]), adapt(r[6]), r[7], r[8], r[9], adapt(r[10])) for r in entries],
    )
    if nodes:
        cursor.executemany(f"INSERT INTO {node_table} (level, {_q('index')}, hash) VALUES (%s, %s, %s)", nodes)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _delete_queued(cursor: CursorWrapper, ids: list[int]) -> None:
    table = QueuedEntry._meta.db_table
    if connection.vendor == "postgresql":
        with psycopg.Cursor(cursor.connection) as raw:
            raw.execute(f"DELETE FROM {table} WHERE id = ANY(%b::bigint[])", [ids])
    else:
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)


def _move_head(cursor: CursorWrapper, old: HeadState, new: HeadState, now: datetime) -> None:
    if new.size == old.size:
        return
    cursor.execute(
        f"UPDATE {Head._meta.db_table} SET size = %s, root = %s, chain_hash = %s, updated_at = %s "
        "WHERE id = 1 AND size = %s AND root = %s",
        [new.size, new.root, new.chain, connection.ops.adapt_datetimefield_value(now), old.size, old.root],
    )
    if cursor.rowcount != 1:
        raise SequencerConflict(f"head moved from size {old.size} while sequencing; batch rolled back")


def read_head() -> HeadState:
    row = Head.objects.filter(id=1).values_list("size", "root", "chain_hash").first()
    if row is None:
        return HeadState(0, EMPTY_ROOT, GENESIS_CHAIN)
    return HeadState(int(row[0]), bytes(row[1]), bytes(row[2]))
