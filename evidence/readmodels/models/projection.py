"""The projector's own bookkeeping: how far it has read, and what it could not apply."""

from __future__ import annotations

from django.db import models


class ProjectionCursor(models.Model):
    """The last ledger seq the projector has applied to the read models."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=-1)

    class Meta:
        db_table = "evidence_projectioncursor"  # kept from before the apps split


class ProjectionError(models.Model):
    """An entry a projector could not apply. The entry stays in the ledger; the read models move on
    past it, and this row says which entry and why until `rebuild_projections` applies it."""

    seq = models.BigIntegerField()
    kind = models.CharField(max_length=100)
    projector = models.CharField(max_length=200)
    error = models.TextField()
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "evidence_projectionerror"  # kept from before the apps split
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}: {self.error[:80]}"
