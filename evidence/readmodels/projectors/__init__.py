"""The projector: ledger entries -> read-model rows, each citing the seq of the entry behind it.

Projector functions are registered per entry kind with @projects("kind", ...); read-model classes
with @projection_model so `rebuild_projections` can clear and replay them. Projectors must be
deterministic functions of the entry (and rows projected from earlier entries), so a rebuild from
the ledger gives the same rows. Read-model areas add their module to PROJECTOR_MODULES; apps above
(compliance) import their own projector modules in their AppConfig.ready().
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

from django.db import models, transaction

from ledger.envelope import ENVELOPE_COLUMNS, differing_columns, envelope_columns, open_envelope
from ledger.models import Entry

Projector = Callable[[Entry], None]

PROJECTOR_MODULES: list[str] = [
    # "evidence.readmodels.projectors.<area>" -- each area adds its line.
    "evidence.readmodels.projectors.artifacts",
    "evidence.readmodels.projectors.deployments",
    "evidence.readmodels.projectors.forge",
    "evidence.readmodels.projectors.shipping",  # after what it derives from
]
_PROJECTORS: dict[str, list[Projector]] = {}
_MODELS: list[type[models.Model]] = []
_SETTLERS: list[Callable[[Run], None]] = []  # run once after a projection run that read entries
BATCH = 500
log = logging.getLogger(__name__)


def projects(*kinds: str) -> Callable[[Projector], Projector]:
    def register(fn: Projector) -> Projector:
        for kind in kinds:
            _PROJECTORS.setdefault(kind, []).append(fn)
        return fn

    return register


def projection_model(model: type[models.Model]) -> type[models.Model]:
    if model not in _MODELS:
        _MODELS.append(model)
    return model


@dataclass(frozen=True, slots=True)
class Read:
    """An entry a projection run read, as its payload says (the hashes prove it, not the columns)."""

    seq: int
    kind: str
    source: str
    subject: str
    observed_at: datetime
    occurred_at: datetime | None
    idempotency_key: str
    envelope: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.envelope["data"])


@dataclass(frozen=True)
class Run:
    """What one projection run read: seqs first..last, and the entries themselves when there were at
    most KEEP of them (None: a long run, such as a rebuild; whoever needs them reads them again)."""

    first_seq: int
    last_seq: int
    entries: list[Read] | None


KEEP = 5000  # entries a run hands to its settlers: about 10 MiB of parsed payloads at most


def after_projection(fn: Callable[[Run], None]) -> Callable[[Run], None]:
    """Register a function run after each projection run that applied entries (e.g. judging
    findings, which depend on rows of many kinds at once), given what the run read. It must be
    deterministic too."""
    if fn not in _SETTLERS:
        _SETTLERS.append(fn)
    return fn


def load_projectors() -> None:
    for name in PROJECTOR_MODULES:
        import_module(name)


def projection_models() -> list[type[models.Model]]:
    return list(_MODELS)


def project_pending() -> int:
    """Apply every entry after the projection cursor, in seq order; return how many were read."""
    from evidence.readmodels.models import ProjectionCursor

    total = 0
    first = last = None
    kept: list[Read] | None = []
    while True:
        with transaction.atomic():
            cursor, _ = ProjectionCursor.objects.select_for_update().get_or_create(id=1)
            # Every entry of the window, dispatched by the kind its payload says: the kind column is an
            # index anyone who owns the database can edit, so it may not decide what gets projected.
            window = Entry.objects.filter(seq__gt=cursor.last_seq).order_by("seq")
            rows = list(window.values_list("seq", *ENVELOPE_COLUMNS, "payload")[:BATCH])
            for row in rows:
                read = _aligned(row)
                if read is None:
                    continue
                if kept is not None:
                    kept = kept if len(kept) < KEEP else None
                    if kept is not None:
                        kept.append(read)
                fns = _PROJECTORS.get(read.kind)
                if fns:
                    entry = _entry(read, row[-1])
                    for fn in fns:
                        _apply(fn, entry)
            if rows:
                if first is None:
                    first = rows[0][0]
                elif rows[0][0] != cursor.last_seq + 1 or last != cursor.last_seq:
                    kept = None  # another run read the entries in between: this one did not see them all
                last = cursor.last_seq = rows[-1][0]
                cursor.save(update_fields=["last_seq"])
            total += len(rows)
        # A short window is the tail: no second transaction to find nothing (entries sequenced since
        # bring their own run, on_sequenced, and the beat sweep catches any left).
        if len(rows) < BATCH:
            break
    if first is not None and last is not None:
        run = Run(first, last, kept)
        for settle in _SETTLERS:
            settle(run)
    return total


def _aligned(row: tuple[Any, ...]) -> Read | None:
    """A window row (seq, the envelope columns, payload) as its payload says; a column that disagrees
    is recorded. None: the payload is unreadable.

    A disagreeing entry is still projected (from its payload, which the hashes prove); the error row
    tells whoever reads projection errors that the database was edited.
    """
    from evidence.readmodels.models import ProjectionError

    seq, payload = row[0], bytes(row[-1])
    columns = dict(zip(ENVELOPE_COLUMNS, row[1:-1], strict=True))
    try:
        envelope = open_envelope(payload)
        wrong = differing_columns(columns, envelope)
        if wrong:
            columns = envelope_columns(envelope)
            if not isinstance(columns["kind"], str) or not isinstance(columns["observed_at"], datetime):
                raise ValueError("the payload names no kind or no observed_at")
    except ValueError as exc:
        ProjectionError.objects.create(seq=seq, kind=str(row[1]), projector="ledger.payload", error=repr(exc))
        return None
    if wrong:
        said = "; ".join(f"column {name} says {stored!r}, the payload {hashed!r}" for name, stored, hashed in wrong)
        log.error("entry %d: %s", seq, said)
        ProjectionError.objects.create(
            seq=seq,
            kind=columns["kind"],
            projector="ledger.columns",
            error=f"projected from the payload; {said} (the row was edited: run verify_ledger)"[:2000],
        )
    return Read(seq=seq, envelope=envelope, **columns)


def _entry(read: Read, payload: bytes) -> Entry:
    """The model instance projectors take: the entry's proven columns (the hashes are not needed)."""
    return Entry(
        seq=read.seq,
        kind=read.kind,
        source=read.source,
        subject=read.subject,
        observed_at=read.observed_at,
        occurred_at=read.occurred_at,
        idempotency_key=read.idempotency_key,
        payload=payload,
    )


def _apply(fn: Projector, entry: Entry) -> None:
    """Run one projector in a savepoint; a failure is recorded, not allowed to stall every later entry."""
    from evidence.readmodels.models import ProjectionError

    try:
        with transaction.atomic():
            fn(entry)
    except Exception as exc:  # a projector bug or an unexpected shape: keep the evidence, say so
        name = f"{fn.__module__}.{fn.__qualname__}"
        log.exception("projector %s failed on entry %d (%s)", name, entry.seq, entry.kind)
        ProjectionError.objects.create(seq=entry.seq, kind=entry.kind, projector=name, error=repr(exc)[:2000])


def rebuild_all() -> int:
    """Clear every read model and replay the whole ledger into it."""
    from evidence.readmodels.models import ProjectionCursor, ProjectionError

    with transaction.atomic():
        for model in reversed(_MODELS):  # dependents registered after what they point at
            model.objects.all().delete()
        ProjectionError.objects.all().delete()
        ProjectionCursor.objects.update_or_create(id=1, defaults={"last_seq": -1})
    return project_pending()
