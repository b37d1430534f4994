"""Reading the stored tree: node lookups for proofs, frontiers and roots.

Raw SQL on purpose: a proof is one round trip for every node it needs (leaves from ledger_entry,
interior nodes from ledger_treenode), and ORM query building would cost more than the query.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

import psycopg
from django.db import connection

from .merkle import Frontier, Node
from .models import Entry, TreeNode


def fetch_nodes(wanted: set[Node]) -> Mapping[Node, bytes]:
    """Stored hashes of the given nodes, in one query whatever their number."""
    if not wanted:
        return {}
    leaves = [index for level, index in wanted if level == 0]
    inner = [(level, index) for level, index in wanted if level]
    parts, params = [], []
    if leaves:
        parts.append(
            f"SELECT 0, seq, leaf_hash FROM {Entry._meta.db_table} WHERE seq IN ({', '.join(['%s'] * len(leaves))})"
        )
        params += leaves
    if inner:
        index = connection.ops.quote_name("index")
        by_level: dict[int, list[int]] = {}
        for level, i in inner:
            by_level.setdefault(level, []).append(i)
        # One (level = ? AND index IN (...)) term per level: both backends turn it into PK lookups.
        terms = []
        for level, indexes in by_level.items():
            terms.append(f"(level = %s AND {index} IN ({', '.join(['%s'] * len(indexes))}))")
            params += [level, *indexes]
        parts.append(f"SELECT level, {index}, hash FROM {TreeNode._meta.db_table} WHERE {' OR '.join(terms)}")
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {(int(level), int(index)): bytes(digest) for level, index, digest in cursor.fetchall()}


def seqs_by_key(keys: Collection[str]) -> dict[str, int]:
    """{idempotency key: seq} for the keys already in the log (one query; no ORM cost per key)."""
    if not keys:
        return {}
    table = Entry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with psycopg.Cursor(cursor.connection) as raw:  # binary array parameter, no client-side quoting
                raw.execute(
                    f"SELECT idempotency_key, seq FROM {table} WHERE idempotency_key = ANY(%b::text[])", [list(keys)]
                )
                return {key: int(seq) for key, seq in raw.fetchall()}
        found: dict[str, int] = {}
        keys = list(keys)
        for k in range(0, len(keys), 30000):  # under SQLite's 32,766 host parameters
            chunk = keys[k : k + 30000]
            cursor.execute(
                f"SELECT idempotency_key, seq FROM {table} WHERE idempotency_key IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found.update((key, int(seq)) for key, seq in cursor.fetchall())
        return found


def load_frontier(size: int) -> Frontier:
    nodes = Frontier.nodes_for(size)
    got = fetch_nodes(set(nodes))
    missing = [n for n in nodes if n not in got]
    if missing:
        raise LookupError(f"tree store lacks frontier nodes {missing} for size {size}")
    return Frontier(size, [got[n] for n in nodes])


def sqlite_datetime(value: datetime | None) -> str | None:
    """What Django's SQLite backend stores for an aware datetime (naive UTC text), without its overhead."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")
