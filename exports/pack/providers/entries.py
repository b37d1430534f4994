"""The generic `entries` pack: listed ledger seqs, or a kind/subject filter over a period.

Needs no read model, so it works on any ledger: counts by kind, source and day, and an
optional reproducible sample shown in full.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce

from ledger.models import Entry

from ... import figures
from ..content import PackContent, Sample, Section, Table
from ..scope import Scope, ScopeError

MAX_ENTRIES = 200_000  # a pack is read by people; beyond this, narrow the scope


def select_entries(scope: Scope, checkpoint_size: int) -> dict[int, dict[str, Any]]:
    """Envelopes of the entries in scope, by seq (all below the checkpoint size)."""
    query = Entry.objects.filter(seq__lt=checkpoint_size)
    if scope.seqs:
        query = query.filter(seq__in=scope.seqs)
    else:
        if scope.kinds:
            query = query.filter(kind__in=scope.kinds)
        if scope.subject:
            query = query.filter(subject=scope.subject)
        if scope.since or scope.until:
            query = query.annotate(at=Coalesce("occurred_at", "observed_at"))
            if scope.since:
                query = query.filter(Q(at__gte=scope.since))
            if scope.until:
                query = query.filter(Q(at__lt=scope.until))
    count = query.count()
    if count > MAX_ENTRIES:
        raise ScopeError(f"scope: {count} entries is more than a pack holds ({MAX_ENTRIES}); narrow it")
    envelopes = {
        seq: json.loads(bytes(payload))
        for seq, payload in query.order_by("seq").values_list("seq", "payload").iterator(chunk_size=2000)
    }
    if scope.seqs:
        missing = sorted(set(scope.seqs) - set(envelopes))
        if missing:
            raise ScopeError(
                f"seqs: {', '.join(map(str, missing[:10]))} not in the ledger's signed tree (size {checkpoint_size})"
            )
    if not envelopes:
        raise ScopeError("scope: no ledger entry matches it")
    return envelopes


def _count_table(title: str, column: str, counts: dict[str, int]) -> Table:
    return Table(
        title=title,
        headers=[column, "Entries"],
        rows=[[name, str(number)] for name, number in counts.items()],
        widths=[80, 20],
    )


def _sample_tables(sample: list[int], envelopes: dict[int, dict[str, Any]]) -> list[Table]:
    tables = []
    for seq in sample:
        env = envelopes[seq]
        rows = [
            ["kind", env["kind"]],
            ["source", env["source"]],
            ["subject", env["subject"]],
            ["occurred at", env.get("occurred_at") or "(not stated)"],
            ["observed at", env["observed_at"]],
            ["idempotency key", env["idempotency_key"]],
            ["data", json.dumps(env["data"], indent=1, sort_keys=True, ensure_ascii=False)],
        ]
        tables.append(
            Table(title=f"Entry {seq}", headers=["Field", "Value"], rows=rows, widths=[18, 82], full_values=True)
        )
    return tables


class EntriesProvider:
    def build(self, scope: Scope, checkpoint_size: int) -> PackContent:
        envelopes = select_entries(scope, checkpoint_size)
        summary = figures.entry_figures(envelopes)
        sample = None
        sections = [
            Section(
                title="Entries by kind, source and day",
                intro="How the evidence in this pack divides up. The appendix lists every entry.",
                tables=[
                    _count_table("By kind", "Kind", summary["entries.by_kind"]),
                    _count_table("By source", "Source", summary["entries.by_source"]),
                    _count_table(
                        "By day (UTC, when it occurred, else when it was observed)", "Day", summary["entries.by_day"]
                    ),
                ],
            )
        ]
        if scope.sample:
            population = sorted(envelopes)
            size = min(scope.sample, len(population))
            chosen = figures.sample_seqs(population, size, scope.seed)
            sample = Sample(scope.seed, size, population, chosen)
            summary.update(figures.sample_figures(sample.as_json()))
            sections.append(
                Section(
                    title=f"Sample of {size} entries in full",
                    intro=(
                        f"Drawn from the {len(population)} entries in scope with seed {scope.seed!r}: the {size} "
                        "seqs with the smallest SHA-256 of \u201cseed:seq\u201d. Anyone can redraw it."
                    ),
                    tables=_sample_tables(chosen, envelopes),
                )
            )
        described = describe(scope)
        return PackContent(
            title="Evidence pack",
            scope_description=described,
            period=scope.period(),
            sections=sections,
            seqs=sorted(envelopes),
            summary=summary,
            summary_rows=[
                ("Entries in scope", "entries.total"),
                ("First seq", "entries.first_seq"),
                ("Last seq", "entries.last_seq"),
                ("Kinds", "entries.by_kind"),
                ("Sources", "entries.by_source"),
            ]
            + ([("Sampled seqs", "sample.seqs")] if sample else []),
            sample=sample,
        )


def describe(scope: Scope) -> str:
    if scope.seqs:
        shown = ", ".join(map(str, scope.seqs[:20])) + (" ..." if len(scope.seqs) > 20 else "")
        return f"ledger entries {shown}"
    parts = []
    if scope.kinds:
        parts.append("of kind " + ", ".join(scope.kinds))
    if scope.subject:
        parts.append(f"about {scope.subject}")
    return "ledger entries " + (" ".join(parts) if parts else "of every kind")


# The verifier re-checks an entries pack against its stated scope with exports.figures.outside_entries_scope,
# which compares envelope times as text: the same instants as the Coalesce filter above.
