"""A deployment's place among its application's deployments: its outcome from the controller's own
words, `rolled_back` when it brought back what ran before, and `running_since` (the first of an
unbroken run of the same revision and digests)."""

from __future__ import annotations

from django.db.models import Q

from evidence.readmodels.models import Deployment

ARGO_FAILED = {"Failed", "Error"}
ARGO_RUNNING = {"Running", "Terminating"}


def base_outcome(row: Deployment) -> str:
    """The outcome from the controller's own words, before comparing with earlier deployments."""
    phase = row.phase
    if phase in ARGO_FAILED or phase == "failed" or (phase.endswith("Failed") and phase != "HealthCheckFailed"):
        return "failed"
    if row.finished_at is None or phase in ARGO_RUNNING:
        return "in_progress"
    if row.health == "Degraded" or phase == "HealthCheckFailed":
        return "degraded"
    return "succeeded"


def _live(row: Deployment) -> Q:
    return Q(environment=row.environment, application=row.application, finished_at__isnull=False) & ~Q(
        outcome__in=("failed", "in_progress")
    )


def _same(a: Deployment, b: Deployment) -> bool:
    """Same revision, and the same digest set where both are known."""
    if a.revision != b.revision:
        return False
    return not a.image_digests or not b.image_digests or set(a.image_digests) == set(b.image_digests)


def relink_from(row: Deployment) -> None:
    """Re-derive rolled_back and running_since for row and the rows after it, until nothing changes;
    then every later deployment of row's revision (`_relink_copies`), so the outcomes do not depend
    on the order the entries arrived in."""
    _relink_chain(row)
    _relink_copies(row)


def _relink_chain(row: Deployment) -> None:
    current: Deployment | None = row
    first = True
    while current is not None:
        changed = _derive(current)
        if not changed and not first:
            return
        first = False
        current = _next(current)


def _next(row: Deployment) -> Deployment | None:
    if row.finished_at is None:
        return None
    return (
        Deployment.objects.filter(_live(row))
        .filter(Q(finished_at__gt=row.finished_at) | Q(finished_at=row.finished_at, id__gt=row.id))
        .order_by("finished_at", "id")
        .first()
    )


def _relink_copies(row: Deployment) -> None:
    """Whether a deployment rolled back depends on every deployment before it, not only the one
    before: when row arrives late (or leaves the live ones), a later deployment of its revision may
    now bring it back (or no longer), with every deployment in between unchanged, where the chain
    stopped. Those are derived again (and the chain from each that changed). No other deployment
    depends on row but through the one after it, which the chain derives."""
    if row.finished_at is None or not row.revision:
        return
    later = (
        Deployment.objects.filter(_live(row), revision=row.revision)
        .filter(Q(finished_at__gt=row.finished_at) | Q(finished_at=row.finished_at, id__gt=row.id))
        .order_by("finished_at", "id")
    )
    for copy in later:
        if _derive(copy):
            nxt = _next(copy)
            if nxt is not None:
                _relink_chain(nxt)


def _derive(row: Deployment) -> bool:
    base = base_outcome(row)
    if base in ("failed", "in_progress"):
        outcome, since = base, None
    else:
        earlier = Deployment.objects.filter(_live(row)).filter(
            Q(finished_at__lt=row.finished_at) | Q(finished_at=row.finished_at, id__lt=row.id)
        )
        prev = earlier.order_by("-finished_at", "-id").first()
        outcome, since = base, row.finished_at
        if prev is not None and _same(prev, row):
            since = prev.running_since or prev.finished_at
        elif prev is not None:
            older = earlier.filter(revision=row.revision).exclude(id=prev.id).filter(finished_at__lte=prev.finished_at)
            if any(_same(o, row) for o in older.only("revision", "image_digests")[:50]):
                outcome = "rolled_back"
    if (outcome, since) == (row.outcome, row.running_since):
        return False
    row.outcome, row.running_since = outcome, since
    row.save(update_fields=["outcome", "running_since"])
    return True
