"""What a content provider hands the pack builder: everything the PDF shows, as plain data.

The builder adds the cover facts (checkpoint, keys, who and when), the evidence index and the
embedded evidence; a provider only says what the pack is about and which entries prove it.
Every figure the PDF states is in `summary` (recomputed by the verifier, see exports.figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A table cell: text, or a list of lines (e.g. settings, one "Name: value" a line).
Cell = str | list[str]


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    # Relative column widths (table-layout: fixed, so WeasyPrint never measures every cell). Make
    # each column as wide as its longest word: words never break inside (see pack.css).
    widths: list[int] | None = None
    # Columns shown in monospace (digests, identifiers, seqs).
    mono: set[int] = field(default_factory=set)
    note: str = ""
    # Digests in cells are shortened to their first hex digits, listed in full in an appendix;
    # True shows them whole (an entry shown in full).
    full_values: bool = False


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
class Chart:
    """An SVG chart (evidence.compliance.charts, the admin's dashboard's) and its figures as a table."""

    title: str
    svg: str
    table: Table


@dataclass
class Section:
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    # Lines shown as a list under the intro (e.g. limitations, the test procedure's steps).
    points: list[str] = field(default_factory=list)


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
    # summary.json's "dora" (the period the dora.* figures cover), with their samples attached as
    # exports.figures.DORA_SAMPLES; None when the pack states no DORA figure.
    dora: dict[str, Any] | None = None
    # Files the provider adds beside the evidence (e.g. population.csv), by name; their MIME types
    # are stated in exports.pack.render.MIME_TYPES. They restate tables, the evidence stays the entries.
    attachments: dict[str, bytes] = field(default_factory=dict)
    signoff: bool = False  # end with a sign-off page (prepared by, reviewed by, version)
