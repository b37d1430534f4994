"""Reading the stored tree: node lookups for proofs, frontiers and roots."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Q

from .merkle import Frontier, Node
from .models import Entry, TreeNode


def fetch_nodes(wanted: set[Node]) -> Mapping[Node, bytes]:
    """Stored hashes of the given nodes: two queries, whatever their number."""
    found: dict[Node, bytes] = {}
    leaves = [index for level, index in wanted if level == 0]
    if leaves:
        for seq, leaf in Entry.objects.filter(seq__in=leaves).values_list("seq", "leaf_hash"):
            found[(0, seq)] = bytes(leaf)
    by_level: dict[int, list[int]] = {}
    for level, index in wanted:
        if level:
            by_level.setdefault(level, []).append(index)
    if by_level:
        condition = Q()
        for level, indexes in by_level.items():
            condition |= Q(level=level, index__in=indexes)
        for level, index, digest in TreeNode.objects.filter(condition).values_list("level", "index", "hash"):
            found[(level, index)] = bytes(digest)
    return found


def load_frontier(size: int) -> Frontier:
    nodes = Frontier.nodes_for(size)
    got = fetch_nodes(set(nodes))
    missing = [n for n in nodes if n not in got]
    if missing:
        raise LookupError(f"tree store lacks frontier nodes {missing} for size {size}")
    return Frontier(size, [got[n] for n in nodes])
