"""The "Who held which role" section of a pack: replayed from the `access.*` entries.

Each access entry carries the user's whole role state after the change (evidence.core.access_evidence),
so replaying them in seq order gives, per user and role (superuser, staff, each group), the spans
in which it was held. A span that overlaps the period is listed with the entries that opened and
closed it. Roles held before the first access entry are not evidenced, and the section says so:
missing evidence is never read as "nobody".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ledger.models import Entry

from ..content import Section, Table

ACCESS_PREFIX = "access."


@dataclass
class Span:
    user: str
    role: str
    start: datetime
    start_seq: int
    end: datetime | None = None
    end_seq: int | None = None
    seqs: list[int] = field(default_factory=list)


def roles_of(state: dict) -> set[str]:
    roles = {f"group {g}" for g in state.get("groups") or []}
    if not state.get("active", True):
        return set()  # a deactivated account holds nothing
    roles |= {name for name in ("superuser", "staff") if state.get(name)}
    return roles


def role_spans(size: int) -> tuple[list[Span], Entry | None]:
    """Every span of every role, from the access entries below the checkpoint; and the first entry."""
    open_spans: dict[tuple[str, str], Span] = {}
    closed: list[Span] = []
    first = None
    for entry in Entry.objects.filter(kind__startswith=ACCESS_PREFIX, seq__lt=size).order_by("seq").iterator():
        entry.align_with_payload()  # read what the hashes prove, not the editable columns
        if not entry.kind.startswith(ACCESS_PREFIX):
            continue
        first = first or entry
        data = entry.data
        user = str(data.get("user") or entry.subject.removeprefix("user:"))
        at = entry.occurred_at or entry.observed_at
        held = roles_of(data.get("state") or {})
        for (name, role), span in list(open_spans.items()):
            if name == user and role not in held:
                span.end, span.end_seq = at, entry.seq
                closed.append(open_spans.pop((name, role)))
        for role in held:
            open_spans.setdefault((user, role), Span(user, role, at, entry.seq))
    spans = closed + list(open_spans.values())
    for span in spans:
        span.seqs = [s for s in (span.start_seq, span.end_seq) if s is not None]
    return sorted(spans, key=lambda s: (s.user, s.role, s.start_seq)), first


def access_section(since: datetime, until: datetime, size: int) -> tuple[Section, list[int]]:
    """Who held which role at any moment of [since, until]; the seqs the section cites."""
    spans, first = role_spans(size)
    during = [s for s in spans if s.start <= until and (s.end is None or s.end >= since)]
    rows = [
        [
            s.user,
            s.role,
            f"{s.start:%Y-%m-%d %H:%M}",
            f"{s.end:%Y-%m-%d %H:%M}" if s.end else "still held",
            ", ".join(str(seq) for seq in s.seqs),
        ]
        for s in during
    ]
    if first is None:
        intro = "No access change is recorded in the ledger: who held which role in the period is not evidenced."
    else:
        start = first.occurred_at or first.observed_at
        intro = (
            "Who could act in the period: superusers, staff and members of each group, replayed from the "
            f"access entries (group membership, flags, deactivations). Access changes are recorded from "
            f"{start:%Y-%m-%d %H:%M} UTC (entry {first.seq}); roles granted before then are not evidenced."
        )
    table = Table(
        title="Roles held in the period",
        headers=["User", "Role", "From (UTC)", "Until (UTC)", "Entries"],
        rows=rows,
        widths=[20, 22, 18, 18, 22],
        mono={4},
        note="" if rows else "No role was held in the period according to the recorded access changes.",
    )
    seqs = sorted({seq for s in during for seq in s.seqs})
    return Section(title="Who held which role", intro=intro, tables=[table]), seqs
