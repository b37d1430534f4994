"""The harvester interface. A harvester reads a source and returns records; it writes nothing.

Adding a harvester: a module in this package with a subclass of Harvester, and one line in
`evidence/harvesters/__init__.py`. `evidence.sources.harvest` is the one place that stores what it returns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ledger.envelope import Record

if TYPE_CHECKING:
    from evidence.sources.models import Source


class HarvestError(RuntimeError):
    """The source could not be read; the message says what and where (never a credential)."""


@dataclass
class HarvestResult:
    records: list[Record] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)  # stored only after the records are appended
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # partial failures; the run is 'partial'
    observed: dict[str, Any] = field(default_factory=dict)  # what was asked and seen, for the run entry


class Harvester(ABC):
    kind: ClassVar[str]

    @abstractmethod
    def targets(self, source: Source) -> list[str]:
        """What this source watches: repositories, projects, images, applications, namespaces."""

    @abstractmethod
    def harvest(self, source: Source, target: str, cursor: dict[str, Any]) -> HarvestResult:
        """Read one target since cursor; raise HarvestError when nothing could be read."""
