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
from importlib import import_module

from django.db import models, transaction

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
_SETTLERS: list[Callable[[], None]] = []  # run once after a projection run that read entries
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


def after_projection(fn: Callable[[], None]) -> Callable[[], None]:
    """Register a function run after each projection run that applied entries (e.g. judging
    findings, which depend on rows of many kinds at once). It must be deterministic too."""
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
    while True:
        with transaction.atomic():
            cursor, _ = ProjectionCursor.objects.select_for_update().get_or_create(id=1)
            # Every entry of the window, dispatched by the kind its payload says: the kind column is an
            # index anyone who owns the database can edit, so it may not decide what gets projected.
            window = list(Entry.objects.filter(seq__gt=cursor.last_seq).order_by("seq")[:BATCH])
            for entry in window:
                if not _align(entry):
                    continue
                for fn in _PROJECTORS.get(entry.kind, ()):
                    _apply(fn, entry)
            if window:
                cursor.last_seq = window[-1].seq
                cursor.save(update_fields=["last_seq"])
            total += len(window)
        # A short window is the tail: no second transaction to find nothing (entries sequenced since
        # bring their own run, on_sequenced, and the beat sweep catches any left).
        if len(window) < BATCH:
            break
    if total:
        for settle in _SETTLERS:
            settle()
    return total


def _align(entry: Entry) -> bool:
    """Read kind, subject, source, times and key from the payload; record columns that disagree.

    The entry is still projected (from its payload, which the hashes prove); the error row tells
    whoever reads projection errors that the database was edited. False: the payload is unreadable.
    """
    from evidence.readmodels.models import ProjectionError

    try:
        wrong = entry.align_with_payload()
    except ValueError as exc:
        ProjectionError.objects.create(seq=entry.seq, kind=entry.kind, projector="ledger.payload", error=repr(exc))
        return False
    if wrong:
        said = "; ".join(f"column {name} says {stored!r}, the payload {hashed!r}" for name, stored, hashed in wrong)
        log.error("entry %d: %s", entry.seq, said)
        ProjectionError.objects.create(
            seq=entry.seq,
            kind=entry.kind,
            projector="ledger.columns",
            error=f"projected from the payload; {said} (the row was edited: run verify_ledger)"[:2000],
        )
    return True


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
