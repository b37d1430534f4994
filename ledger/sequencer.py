"""The sequencer: moves queued records into the log, one batch per transaction.

Under the head-row lock it assigns consecutive seqs, computes leaf, chain and tree hashes, stores
the entries and the Merkle nodes they complete, deletes the queue rows, and moves the head with a
compare-and-swap on (size, root). On PostgreSQL the payloads stay in the server: producers queue
each leaf hash beside its payload, one DELETE ... RETURNING feeds the INSERT into the log and checks
each leaf against the bytes it moves, so the sequencer's share of each entry is a 32-byte leaf hash
in and a seq and chain hash out (bench/ledger.py measures it).
SQLite with no broker (the embedded default) skips the queue: sequence_inline places what a producer
has just sealed, in the producer's transaction, through the same placement.
Two sequencers never interleave; a crash rolls the batch back whole, and the queue rows are still
there for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from .envelope import Sealed
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
    careful = False
    while True:
        try:
            added, drained = _sequence_batch(batch_size, careful)
        except _AlreadyLogged as exc:
            if careful:  # looked up and still a duplicate: not a race, something else is wrong
                raise SequencerConflict(f"unique key violated while moving a batch: {exc.__cause__}") from exc
            careful = True  # the batch was rolled back whole: take it again, looking each key up
            continue
        careful = False
        total += added
        if drained:
            return total


class _AlreadyLogged(Exception):
    """A queued key was already in the log (queued again while it was being sequenced)."""


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


def _sequence_batch(batch_size: int, careful: bool = False) -> tuple[int, bool]:
    with transaction.atomic(), connection.cursor() as cursor:
        head = _lock_head(cursor)
        if connection.vendor == "postgresql":
            batch = _take_pg(cursor, batch_size, careful)
        else:
            batch = _take_sqlite(cursor, batch_size)
        if not batch:
            return 0, True
        placed = _place(cursor, head, batch, [item.id for item in batch])
    return len(placed), len(batch) < batch_size


def sequence_inline(items: Sequence[Sealed]) -> dict[str, int]:
    """SQLite with no broker: put records the producer has just sealed (keys not yet in the log) straight
    into the log, in the producer's own transaction, moving head, chain and tree as a queued batch moves
    them. Their queue rows would be inserted and deleted in that one transaction, so they are skipped:
    the commit that accepts the records is the one that sequences them. Call sequence_pending() first,
    so that records queued earlier keep their place before these. Returns {key: seq} of what it added."""
    if connection.vendor != "sqlite":
        raise RuntimeError("sequence_inline is SQLite's inline path; PostgreSQL sequences through the queue")
    if not items:
        return {}
    batch = [
        Queued(
            -1,
            r.idempotency_key,
            leaf_hash(s.payload),
            False,
            (r.idempotency_key, r.kind, r.source, r.subject, r.observed_at, r.occurred_at, s.payload),
        )
        for s in items
        for r in (s.record,)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        placed = _place(cursor, _lock_head(cursor), batch, [])
    return {item.key: seq for item, seq, _ in placed}


def _place(
    cursor: CursorWrapper, head: HeadState, batch: list[Queued], queue_ids: list[int]
) -> list[tuple[Queued, int, bytes]]:
    """Under the head lock: give the batch consecutive seqs, store entries and completed tree nodes,
    delete the queue rows they came from and move the head. Returns (item, seq, chain hash) of each
    entry added."""
    frontier = load_frontier(head.size)
    _check_head(cursor, head, frontier.root())
    now = timezone.now()
    placed: list[tuple[Queued, int, bytes]] = []  # (queued row, seq, chain hash)
    nodes: list[tuple[int, int, bytes]] = []
    chain = head.chain
    seen: set[str] = set()
    for item in batch:
        if item.done or item.key in seen:
            continue  # queued again after it was sequenced: already in the log
        seen.add(item.key)
        chain = chain_hash(chain, item.leaf)
        placed.append((item, frontier.size, chain))
        nodes.extend(frontier.append(item.leaf))
    root = frontier.root()
    if connection.vendor == "postgresql":
        _move_pg(cursor, queue_ids, placed, nodes, now)
    else:
        _move_sqlite(cursor, queue_ids, placed, nodes, now)
    _move_head(cursor, head, HeadState(frontier.size, root, chain), now)
    if placed:
        first, last = placed[0][1], placed[-1][1]
        # robust: a listener's failure (say, a broker outage) must not undo or hide a committed batch
        transaction.on_commit(lambda: sequenced.send(sender=Entry, first_seq=first, last_seq=last), robust=True)
    return placed


@dataclass(frozen=True)
class Queued:
    """A queue row as the sequencer needs it (id -1: sealed inline, never queued); `row` (SQLite only)
    carries the columns to copy."""

    id: int
    key: str
    leaf: bytes
    done: bool  # the key is already in the log
    row: tuple[Any, ...] = ()


def _take_pg(cursor: CursorWrapper, batch_size: int, careful: bool) -> list[Queued]:
    """The oldest queued rows with their producers' leaf hashes (checked against the bytes when moved).

    A queued key is almost never in the log already (producers look first), so the first take does
    not look: the log's unique key then fails the move, and `careful` takes the batch again with the
    look-up. Payloads never travel to the sequencer and back.
    """
    queue, entries = QueuedEntry._meta.db_table, Entry._meta.db_table
    leaf = "COALESCE(q.leaf_hash, sha256('\\x00'::bytea || q.payload))"
    if careful:
        cursor.execute(
            f"SELECT q.id, q.idempotency_key, {leaf}, e.seq IS NOT NULL "
            f"FROM (SELECT id, idempotency_key, payload, leaf_hash FROM {queue} ORDER BY id LIMIT %s) q "
            f"LEFT JOIN {entries} e ON e.idempotency_key = q.idempotency_key ORDER BY q.id",
            [batch_size],
        )
    else:
        cursor.execute(
            f"SELECT q.id, q.idempotency_key, {leaf}, false FROM {queue} q ORDER BY q.id LIMIT %s", [batch_size]
        )
    return [Queued(int(i), key, bytes(leaf), bool(done)) for i, key, leaf, done in cursor.fetchall()]


def _take_sqlite(cursor: CursorWrapper, batch_size: int) -> list[Queued]:
    cursor.execute(
        f"SELECT id, idempotency_key, kind, source, subject, observed_at, occurred_at, payload "
        f"FROM {QueuedEntry._meta.db_table} ORDER BY id LIMIT %s",
        [batch_size],
    )
    rows = cursor.fetchall()
    done = seqs_by_key([r[1] for r in rows])
    return [Queued(int(r[0]), r[1], leaf_hash(bytes(r[7])), r[1] in done, tuple(r[1:])) for r in rows]


def _move_pg(
    cursor: CursorWrapper,
    ids: list[int],
    placed: list[tuple[Queued, int, bytes]],
    nodes: list[tuple[int, int, bytes]],
    now: datetime,
) -> None:
    """One statement moves the batch from the queue into the log inside the server (DELETE ... RETURNING
    feeding the INSERT); the leaf hash is checked again there against the bytes actually moved."""
    queue, entries, tree = QueuedEntry._meta.db_table, Entry._meta.db_table, TreeNode._meta.db_table
    with psycopg.Cursor(cursor.connection) as raw:  # binary array parameters
        try:
            raw.execute(
                f"WITH moved AS (DELETE FROM {queue} q WHERE q.id = ANY(%b::bigint[]) RETURNING q.*) "
                f"INSERT INTO {entries} ({ENTRY_COLUMNS}) "
                "SELECT v.seq, m.idempotency_key, m.kind, m.source, m.subject, m.observed_at, m.occurred_at, "
                "m.payload, v.leaf, v.chain, %b::timestamptz "
                "FROM moved m JOIN unnest(%b::bigint[], %b::bigint[], %b::bytea[], %b::bytea[]) "
                "AS v(id, seq, leaf, chain) ON v.id = m.id WHERE sha256('\\x00'::bytea || m.payload) = v.leaf",
                [
                    ids,
                    now,
                    [item.id for item, _, _ in placed],
                    [seq for _, seq, _ in placed],
                    [item.leaf for item, _, _ in placed],
                    [chain for _, _, chain in placed],
                ],
            )
        except psycopg.errors.UniqueViolation as exc:
            raise _AlreadyLogged from exc  # a key already in the log: see _take_pg
        if raw.rowcount != len(placed):
            raise SequencerConflict("queued rows changed under the sequencer; batch rolled back")
        if nodes:
            raw.execute(
                f"INSERT INTO {tree} (level, index, hash) "
                "SELECT * FROM unnest(%b::smallint[], %b::bigint[], %b::bytea[])",
                [list(column) for column in zip(*nodes, strict=True)],
            )


def _move_sqlite(
    cursor: CursorWrapper,
    ids: list[int],
    placed: list[tuple[Queued, int, bytes]],
    nodes: list[tuple[int, int, bytes]],
    now: datetime,
) -> None:
    adapt, at = sqlite_datetime, sqlite_datetime(now)
    cursor.executemany(
        f"INSERT INTO {Entry._meta.db_table} ({ENTRY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (seq, *item.row[:4], adapt(item.row[4]), adapt(item.row[5]), item.row[6], item.leaf, chain, at)
            for item, seq, chain in placed
        ],
    )
    if nodes:
        cursor.executemany(
            f"INSERT INTO {TreeNode._meta.db_table} (level, {_q('index')}, hash) VALUES (%s, %s, %s)", nodes
        )
    if ids:
        cursor.execute(f"DELETE FROM {QueuedEntry._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)


ENTRY_COLUMNS = (
    "seq, idempotency_key, kind, source, subject, observed_at, occurred_at, payload, leaf_hash, chain_hash, "
    "sequenced_at"
)


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


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


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
