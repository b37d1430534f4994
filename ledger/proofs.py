"""Inclusion and consistency proofs served from stored tree nodes (O(log n) node reads)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection

from . import merkle
from .models import Checkpoint, Head
from .store import fetch_nodes


class ProofUnavailable(ValueError):
    """Asked for a proof the ledger cannot give (size beyond the head, unknown seq)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]
    root: bytes
    checkpoint_note: str | None  # the signed note for tree_size, when one was signed

    def as_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "tree_size": self.tree_size,
            "leaf_hash": _b64(self.leaf_hash),
            "path": [_b64(p) for p in self.path],
            "root": _b64(self.root),
            "checkpoint": self.checkpoint_note,
        }


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: list[bytes]

    def as_json(self) -> dict[str, object]:
        return {
            "from": self.old_size,
            "to": self.new_size,
            "from_root": _b64(self.old_root),
            "to_root": _b64(self.new_root),
            "path": [_b64(p) for p in self.path],
        }


def _head_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT size FROM {Head._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _checkpoint(size: int | None) -> tuple[int, bytes, str] | None:
    """(size, root, note) of the checkpoint for size, or of the latest one when size is None."""
    table = Checkpoint._meta.db_table
    with connection.cursor() as cursor:
        if size is None:
            cursor.execute(f"SELECT size, root, note FROM {table} ORDER BY size DESC LIMIT 1")
        else:
            cursor.execute(f"SELECT size, root, note FROM {table} WHERE size = %s", [size])
        row = cursor.fetchone()
    return (int(row[0]), bytes(row[1]), row[2]) if row else None


class _Prefetched:
    """Fetch once, for the proof's nodes and (when no checkpoint names the root) the root's."""

    def __init__(self, wanted: set[merkle.Node]) -> None:
        self.nodes = dict(fetch_nodes(wanted))

    def __call__(self, wanted: set[merkle.Node]) -> Mapping[merkle.Node, bytes]:
        missing = wanted - set(self.nodes)
        if missing:
            self.nodes.update(fetch_nodes(missing))
        return self.nodes


def _root(size: int, checkpoint: tuple[int, bytes, str] | None, fetch: merkle.NodeFetcher) -> bytes:
    return checkpoint[1] if checkpoint else merkle.subtree_root(size, fetch)


def root_at(size: int) -> bytes:
    head = _head_size()
    if not 0 <= size <= head:
        raise ProofUnavailable(f"tree size {size} is beyond the ledger's {head} entries")
    return _root(size, _checkpoint(size), fetch_nodes)


def inclusion_proof(seq: int, size: int | None = None) -> InclusionProof:
    """Proof that entry seq is in the tree of `size` (default: the latest checkpoint)."""
    checkpoint = _checkpoint(size)
    if size is None:
        if checkpoint is None:
            raise ProofUnavailable("no checkpoint has been signed yet")
        size = checkpoint[0]
    if checkpoint is None:  # a signed checkpoint is within the log by construction; anything else is checked
        head = _head_size()
        if not 0 <= size <= head:
            raise ProofUnavailable(f"tree size {size} is beyond the ledger's {head} entries")
    if not 0 <= seq < size:
        raise ProofUnavailable(f"entry {seq} is not in the tree of size {size}")
    wanted = {(0, seq), *merkle.inclusion_nodes(seq, size)}
    if checkpoint is None:
        wanted |= set(merkle.Frontier.nodes_for(size))
    fetch = _Prefetched(wanted)
    path = merkle.inclusion_proof(seq, size, fetch)
    return InclusionProof(
        seq, size, fetch.nodes[(0, seq)], path, _root(size, checkpoint, fetch), checkpoint[2] if checkpoint else None
    )


def consistency_proof(old: int, new: int) -> ConsistencyProof:
    if old > new:
        raise ProofUnavailable(f"'from' ({old}) must not be larger than 'to' ({new})")
    old_cp, new_cp = _checkpoint(old), _checkpoint(new)
    if new_cp is None:
        head = _head_size()
        if new > head:
            raise ProofUnavailable(f"tree size {new} is beyond the ledger's {head} entries")
    wanted = set(merkle.consistency_nodes(old, new))
    for size, cp in ((old, old_cp), (new, new_cp)):
        if cp is None:
            wanted |= set(merkle.Frontier.nodes_for(size))
    fetch = _Prefetched(wanted)
    path = merkle.consistency_proof(old, new, fetch)
    return ConsistencyProof(old, new, _root(old, old_cp, fetch), _root(new, new_cp, fetch), path)
