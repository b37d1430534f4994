"""Harvesters by source kind (the kinds are listed in evidence.sources.kinds), imported lazily:
each pulls in its client library."""

from __future__ import annotations

from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult, SourceKind


def get_harvester(kind: str) -> Harvester:
    from evidence.sources.kinds import get_kind

    found = get_kind(kind)
    if found is None:
        raise HarvestError(f"no harvester for sources of kind {kind!r}")
    return found.load_harvester()


__all__ = ["HarvestError", "HarvestResult", "Harvester", "SourceKind", "get_harvester"]
