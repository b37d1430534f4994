"""What a content provider hands the pack builder: everything the PDF shows, as plain data.

The builder adds the cover facts (checkpoint, keys, who and when), the evidence index and the
embedded evidence; a provider only says what the pack is about and which entries prove it.
Every figure the PDF states is in `summary` (recomputed by the verifier, see exports.figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    # Relative column widths (table-layout: fixed, so WeasyPrint never measures every cell).
    widths: list[int] | None = None
    # Columns shown in monospace without wrapping (hashes, digests, seqs).
    mono: set[int] = field(default_factory=set)
    note: str = ""


@dataclass
class Finding:
    code: str
    severity: str  # e.g. high, medium, low
    title: str
    explanation: str
    seqs: list[int]  # the entries behind it; each must be in PackContent.seqs
    controls: list[str] = field(default_factory=list)
    status: str = "open"  # open, accepted (a risk acceptance is itself an entry)

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "explanation": self.explanation,
            "seqs": sorted(self.seqs),
            "controls": self.controls,
            "status": self.status,
        }


@dataclass
class Section:
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Sample:
    """A reproducible random sample of a population of entry seqs (see exports.figures.sample_seqs)."""

    seed: str
    size: int
    population: list[int]
    seqs: list[int]

    def as_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "size": self.size, "population": self.population}


@dataclass
class PackContent:
    title: str
    scope_description: str
    period: str
    sections: list[Section]
    seqs: list[int]  # every ledger entry the pack relies on; all are embedded with proofs
    summary: dict[str, Any]  # every figure the PDF states, by recipe name (exports.figures)
    summary_rows: list[tuple[str, str]] = field(default_factory=list)  # (label, figure name) for the summary page
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)  # count.<name> recipes
    sample: Sample | None = None
