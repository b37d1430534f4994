"""verify_ledger: recompute every hash from the stored bytes and check every checkpoint.

One pass in seq order: each payload's leaf hash, the chain, and every Merkle node it completes
(compared with the stored node as it is produced, one streaming cursor per tree level), the root
at every checkpoint size (and the checkpoint's signature), and finally the head row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from . import merkle
from .models import Checkpoint, Entry, Head, TreeNode
from .note import NoteError, Verifier, verify_checkpoint

CHUNK = 5000


@dataclass
class Report:
    ok: bool
    entries: int
    nodes: int
    checkpoints: int
    problem: str = ""
    bad_seq: int | None = None

    def line(self) -> str:
        if self.ok:
            return (
                f"ledger OK: {self.entries} entries, {self.nodes} tree nodes, {self.checkpoints} checkpoints verified"
            )
        where = f"seq {self.bad_seq}: " if self.bad_seq is not None else ""
        return f"ledger BROKEN at {where}{self.problem}"


class _Broken(Exception):
    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem)
        self.seq, self.problem = seq, problem


def _stream(sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows of a query, fetched in chunks (a named server-side cursor on PostgreSQL)."""
    if connection.vendor == "postgresql":
        raw = connection.connection
        with raw.cursor(name=f"verify_{id(sql)}_{params[0] if params else 0}") as cursor:
            cursor.itersize = CHUNK
            cursor.execute(sql, params)
            yield from cursor
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(CHUNK):
                yield from rows


class _LevelStreams:
    """Stored nodes, one ordered stream per level, consumed as the recomputation produces them."""

    def __init__(self) -> None:
        self._streams: dict[int, Iterator[tuple[Any, ...]]] = {}
        self.count = 0
        table = TreeNode._meta.db_table
        self._sql = f"SELECT {connection.ops.quote_name('index')}, hash FROM {table} WHERE level = %s ORDER BY 1"

    def check(self, level: int, index: int, digest: bytes, first_seq: int, last_seq: int) -> None:
        stream = self._streams.get(level)
        if stream is None:
            stream = self._streams[level] = _stream(self._sql, [level])
        row = next(stream, None)
        if row is None or int(row[0]) != index:
            raise _Broken(
                last_seq, f"tree node (level {level}, index {index}) covering seqs {first_seq}-{last_seq} is missing"
            )
        if bytes(row[1]) != digest:
            raise _Broken(
                last_seq,
                f"tree node (level {level}, index {index}) covering seqs {first_seq}-{last_seq} has a wrong hash",
            )
        self.count += 1

    def close(self) -> None:
        for stream in self._streams.values():
            stream.close()  # type: ignore[attr-defined]

    def leftovers(self) -> str | None:
        for level in sorted(self._streams):
            row = next(self._streams[level], None)
            if row is not None:
                return f"tree node (level {level}, index {row[0]}) exists beyond the log"
        extra = (
            TreeNode.objects.exclude(level__in=list(self._streams)).first()
            if self._streams
            else TreeNode.objects.first()
        )
        if extra is not None:
            return f"tree node (level {extra.level}, index {extra.index}) exists beyond the log"
        return None


def verify_ledger(verifier: Verifier | None) -> Report:
    """Check everything; stop at the first problem. verifier=None skips signature checks."""
    checkpoints = {c.size: c for c in Checkpoint.objects.all()}
    report = Report(True, 0, 0, 0)
    levels = _LevelStreams()
    frontier = merkle.Frontier()
    chain = merkle.GENESIS_CHAIN
    entry_table = Entry._meta.db_table
    try:
        with transaction.atomic():  # one snapshot for every stream (PostgreSQL)
            if 0 in checkpoints:
                _check_checkpoint(checkpoints[0], merkle.EMPTY_ROOT, verifier)
                report.checkpoints += 1
            rows = _stream(f"SELECT seq, payload, leaf_hash, chain_hash FROM {entry_table} ORDER BY seq", [])
            try:
                _replay(rows, frontier, chain, levels, checkpoints, verifier, report)
                extra = levels.leftovers()
            finally:  # close server-side cursors while their transaction is still open
                rows.close()  # type: ignore[attr-defined]
                levels.close()
            report.entries = frontier.size
            report.nodes = levels.count
            if extra:
                raise _Broken(None, extra)
            beyond = [size for size in checkpoints if size > frontier.size]
            if beyond:
                raise _Broken(None, f"checkpoint for size {min(beyond)} but the log has {frontier.size} entries")
            head = Head.objects.filter(id=1).first()
            if head is not None and (head.size != frontier.size or bytes(head.root) != frontier.root()):
                raise _Broken(
                    None, f"head row says size {head.size}, the log has {frontier.size} entries / another root"
                )
    except _Broken as broken:
        report.ok, report.bad_seq, report.problem = False, broken.seq, broken.problem
    return report


def _replay(
    rows: Iterator[tuple[Any, ...]],
    frontier: merkle.Frontier,
    chain: bytes,
    levels: _LevelStreams,
    checkpoints: dict[int, Checkpoint],
    verifier: Verifier | None,
    report: Report,
) -> None:
    for seq, payload, stored_leaf, stored_chain in rows:
        if seq != frontier.size:
            raise _Broken(frontier.size, f"entry missing (next stored seq is {seq})")
        leaf = merkle.leaf_hash(bytes(payload))
        if leaf != bytes(stored_leaf):
            raise _Broken(seq, "payload does not match its stored leaf hash (payload or leaf hash altered)")
        chain = merkle.chain_hash(chain, leaf)
        if chain != bytes(stored_chain):
            raise _Broken(seq, "chain hash does not follow from the previous entry")
        for level, index, digest in frontier.append(leaf):
            levels.check(level, index, digest, index << level, ((index + 1) << level) - 1)
        if frontier.size in checkpoints:
            _check_checkpoint(checkpoints[frontier.size], frontier.root(), verifier)
            report.checkpoints += 1


def _check_checkpoint(checkpoint: Checkpoint, root: bytes, verifier: Verifier | None) -> None:
    seq = checkpoint.size - 1 if checkpoint.size else None
    if bytes(checkpoint.root) != root:
        raise _Broken(seq, f"checkpoint {checkpoint.size}: stored root differs from the recomputed tree")
    if verifier is None:
        return
    try:
        body = verify_checkpoint(checkpoint.note, verifier, settings.LEDGER_ORIGIN)
    except NoteError as exc:
        raise _Broken(seq, f"checkpoint {checkpoint.size}: {exc}") from None
    if body.size != checkpoint.size or body.root != root:
        raise _Broken(seq, f"checkpoint {checkpoint.size}: signed note names another size or root")
