"""Inclusion and consistency proofs served from stored tree nodes (O(log n) node reads)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from . import merkle
from .models import Checkpoint, Entry
from .sequencer import read_head
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


def _check_size(size: int) -> None:
    head = read_head()
    if not 0 <= size <= head.size:
        raise ProofUnavailable(f"tree size {size} is beyond the ledger's {head.size} entries")


def root_at(size: int) -> bytes:
    _check_size(size)
    checkpoint = Checkpoint.objects.filter(size=size).values_list("root", flat=True).first()
    if checkpoint is not None:
        return bytes(checkpoint)
    return merkle.subtree_root(size, fetch_nodes)


def inclusion_proof(seq: int, size: int | None = None) -> InclusionProof:
    """Proof that entry seq is in the tree of `size` (default: the latest checkpoint)."""
    if size is None:
        latest = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()
        if latest is None:
            raise ProofUnavailable("no checkpoint has been signed yet")
        size = latest
    _check_size(size)
    if not 0 <= seq < size:
        raise ProofUnavailable(f"entry {seq} is not in the tree of size {size}")
    leaf = Entry.objects.filter(seq=seq).values_list("leaf_hash", flat=True).first()
    if leaf is None:
        raise ProofUnavailable(f"no entry {seq}")
    path = merkle.inclusion_proof(seq, size, fetch_nodes)
    note = Checkpoint.objects.filter(size=size).values_list("note", flat=True).first()
    return InclusionProof(seq, size, bytes(leaf), path, root_at(size), note)


def consistency_proof(old: int, new: int) -> ConsistencyProof:
    if old > new:
        raise ProofUnavailable(f"'from' ({old}) must not be larger than 'to' ({new})")
    _check_size(new)
    path = merkle.consistency_proof(old, new, fetch_nodes)
    return ConsistencyProof(old, new, root_at(old), root_at(new), path)
