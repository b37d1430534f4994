"""The harvester interface. A harvester reads a source and returns records; it writes nothing.

Adding a kind of source: a subclass of Harvester, a configuration schema (a SourceConfig), and one
line in `evidence/sources/kinds.py`. `evidence.sources.harvest` is the one place that stores what it returns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

from ledger.envelope import Record

if TYPE_CHECKING:
    from evidence.sources.models import Source
    from evidence.sources.schemas import SourceConfig


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


@dataclass(frozen=True, kw_only=True)
class SourceKind:
    """What one kind of source supplies: its harvester and the configuration it accepts.

    Classes are named by dotted path ("module:name") and imported when first used, so listing
    the kinds does not pull in every client library.
    """

    name: str  # the Source.kind value, e.g. "oci"
    harvester: str  # "module:Class", a Harvester subclass
    schema: type[SourceConfig]  # what its config may hold (unknown keys are refused)
    receiver: str = ""  # "module:function", the view of /hooks/<name>/ when the kind takes webhooks

    def load_harvester(self) -> Harvester:
        harvester: Harvester = _load(self.harvester)()
        return harvester

    def load_receiver(self) -> Any:
        return _load(self.receiver)


def _load(dotted: str) -> Any:
    module, _, name = dotted.partition(":")
    return getattr(import_module(module), name)
