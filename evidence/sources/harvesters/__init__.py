"""What every harvester is (base.py). The harvester of a kind: `evidence.sources.kinds.get_harvester`."""

from __future__ import annotations

from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult, SourceKind

__all__ = ["HarvestError", "HarvestResult", "Harvester", "SourceKind"]
