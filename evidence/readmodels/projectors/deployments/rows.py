"""A deployment row's life: created by identity, merged into, saved, and re-derived against its
neighbours (outcome `rolled_back`, `running_since`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db.models import Q

from evidence.readmodels.models import DeployedApplication, Deployment, DeploymentImage
from ledger.models import Entry

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
ARGO_FAILED = {"Failed", "Error"}
ARGO_RUNNING = {"Running", "Terminating"}


def new_row(entry: Entry, data: dict[str, Any], controller: str, identity: str, started: datetime) -> Deployment:
    """The row with this identity, or a new unsaved one placed where the entry says."""
    row = Deployment.objects.filter(identity=identity).first()
    if row is not None:
        return row
    row = Deployment(
        identity=identity,
        controller=controller,
        source=entry.source,
        subject=entry.subject,
        environment=str(data.get("environment") or "unknown"),
        application=str(data.get("application") or "unknown"),
        started_at=started,
        outcome="in_progress",
        entry_seqs=[],
        first_seq=entry.seq,
    )
    return row


def add_digests(row: Deployment, found: list[tuple[str, str]], origin: str, seq: int) -> None:
    """Add (digest, image) pairs to the row and its DeploymentImage rows, citing the entry."""
    if row.pk is None:
        row.save()
    for digest, image in found:
        DeploymentImage.objects.get_or_create(
            deployment=row, digest=digest, defaults={"image": image, "origin": origin, "entry_seq": seq}
        )
    row.image_digests = sorted({*row.image_digests, *(d for d, _ in found)})


def save_row(row: Deployment, entry: Entry) -> None:
    """Cite the entry, save, keep the per-application index, and re-derive the neighbours."""
    if entry.seq not in row.entry_seqs:
        row.entry_seqs = sorted([*row.entry_seqs, entry.seq])
    row.outcome = base_outcome(row)
    row.save()
    if row.finished_at is not None and row.outcome != "failed":
        app, created = DeployedApplication.objects.get_or_create(
            environment=row.environment, application=row.application, defaults={"first_finished_at": row.finished_at}
        )
        if not created and row.finished_at < app.first_finished_at:
            app.first_finished_at = row.finished_at
            app.save(update_fields=["first_finished_at"])
    relink_from(row)
    from evidence.readmodels.projectors.deployments.images import resolve_around  # images imports rows

    resolve_around(row)


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
    """Re-derive rolled_back and running_since for row and the rows after it, until nothing changes."""
    current: Deployment | None = row
    first = True
    while current is not None:
        changed = _derive(current)
        if not changed and not first:
            return
        first = False
        if current.finished_at is None:
            return
        current = (
            Deployment.objects.filter(_live(current))
            .filter(Q(finished_at__gt=current.finished_at) | Q(finished_at=current.finished_at, id__gt=current.id))
            .order_by("finished_at", "id")
            .first()
        )


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
