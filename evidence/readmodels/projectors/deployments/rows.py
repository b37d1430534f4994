"""A deployment row's life: created by identity, merged into, saved, and re-derived against its
neighbours (`lineage`: outcome `rolled_back`, `running_since`; `images`: resolved digests)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from evidence.readmodels.models import DeployedApplication, Deployment, DeploymentImage
from evidence.readmodels.projectors.deployments.images import resolve_around
from evidence.readmodels.projectors.deployments.intervals import refresh_commits, refresh_intervals
from evidence.readmodels.projectors.deployments.lineage import base_outcome, relink_from
from evidence.readmodels.shipping import mark_series
from ledger.models import Entry


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
    resolve_around(row)  # first: the intervals copy the digests it resolves
    refresh_intervals(row.environment, row.application)
    refresh_commits(row)
    mark_series(row.environment, row.application)
