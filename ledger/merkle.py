"""RFC 6962 / RFC 9162 Merkle tree: hashing, incremental building, proofs and their verification.

Django-free and standard-library only, so that the offline verifier can carry it as is.

Nodes are named by (level, index): the complete subtree of 2**level leaves starting at leaf
index * 2**level. Level 0 is the leaf hashes. A tree of size n stores a node only once the
subtree is complete, so stored nodes never change as the tree grows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index)

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify, or was asked for sizes that make no sense."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """The per-entry local alarm: SHA-256(previous chain hash || leaf hash)."""
    return hashlib.sha256(previous + leaf).digest()


GENESIS_CHAIN = bytes(32)


def _largest_power_of_two_below(n: int) -> int:
    """Largest k = 2**i with k < n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The right edge of a growing tree: one hash per set bit of its size.

    append() returns the complete nodes (level >= 1) that the new leaf finished, so a writer can
    store them; root() folds the edge into the tree head.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        # hashes[j] is the subtree for the j-th set bit of size, from the most significant.
        if len(hashes) != bin(size).count("1"):
            raise ValueError("frontier needs one hash per set bit of the size")
        self.size = size
        self.hashes = list(hashes)

    @staticmethod
    def nodes_for(size: int) -> list[Node]:
        """The (level, index) of each frontier subtree of a tree of this size, left to right."""
        out = []
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                out.append((level, (size >> level) - 1))
        return out

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        made: list[tuple[int, int, bytes]] = []
        current = leaf
        index = self.size
        level = 0
        while index & 1:
            current = node_hash(self.hashes.pop(), current)
            index >>= 1
            level += 1
            made.append((level, index, current))
        self.hashes.append(current)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        current = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            current = node_hash(left, current)
        return current


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH over leaf hashes, by the frontier (O(log n) memory)."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


# --- Proof planning: which stored nodes a proof needs --------------------------------------
#
# A subtree hash MTH(D[a:b]) is either one stored node (aligned power of two) or, on the right
# edge, a fold of stored nodes. Planning lists those nodes so a store can fetch them in one query.


def _subtree_nodes(start: int, end: int) -> list[Node]:
    """Stored nodes whose RFC 6962 fold gives MTH(D[start:end]), left to right."""
    out: list[Node] = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1
        # start is always aligned to the largest power of two that fits (RFC 6962 split).
        out.append((level, start >> level))
        start += 1 << level
    return out


def _fold(hashes: Sequence[bytes]) -> bytes:
    current = hashes[-1]
    for left in reversed(hashes[:-1]):
        current = node_hash(left, current)
    return current


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.3.1 PATH(m, D[n]) as the subtree ranges it hashes, leaf first."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start = start + k
    ranges.reverse()
    return ranges


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.4.1 PROOF(m, D[n]) as the subtree ranges it hashes, in proof order."""
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    ranges.reverse()
    return ranges


NodeFetcher = Callable[[set[Node]], Mapping[Node, bytes]]


def _assemble(ranges: list[tuple[int, int]], fetch: NodeFetcher) -> list[bytes]:
    wanted = {node for a, b in ranges for node in _subtree_nodes(a, b)}
    got = fetch(wanted)
    missing = wanted - set(got)
    if missing:
        raise ProofError(f"tree store lacks nodes {sorted(missing)[:3]}")
    return [_fold([got[node] for node in _subtree_nodes(a, b)]) for a, b in ranges]


def inclusion_nodes(index: int, size: int) -> list[Node]:
    """The stored nodes an inclusion proof reads (to fetch them in one go)."""
    if not 0 <= index < size:
        return []
    return [node for a, b in _inclusion_ranges(index, size) for node in _subtree_nodes(a, b)]


def consistency_nodes(old: int, new: int) -> list[Node]:
    """The stored nodes a consistency proof reads."""
    if not 0 < old < new:
        return []
    return [node for a, b in _consistency_ranges(old, new) for node in _subtree_nodes(a, b)]


def inclusion_proof(index: int, size: int, fetch: NodeFetcher) -> list[bytes]:
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    return _assemble(_inclusion_ranges(index, size), fetch)


def consistency_proof(old: int, new: int, fetch: NodeFetcher) -> list[bytes]:
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old == 0 or old == new:
        return []
    return _assemble(_consistency_ranges(old, new), fetch)


def subtree_root(size: int, fetch: NodeFetcher) -> bytes:
    """Root of the tree of this size from stored nodes (its frontier)."""
    if size == 0:
        return EMPTY_ROOT
    return _assemble([(0, size)], fetch)[0]


# --- Verification (RFC 9162 2.1.3.2 and 2.1.4.2) --------------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless proof shows leaf at index in the tree (size, root)."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of size {size}")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Raise ProofError unless proof shows tree (old, old_root) is a prefix of (new, new_root)."""
    if not 0 <= old <= new:
        raise ProofError(f"sizes out of order: {old} > {new}")
    if old == new:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for size {old}")
        return
    if old == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"consistency proof does not lead to the root of size {old}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not lead to the root of size {new}")
