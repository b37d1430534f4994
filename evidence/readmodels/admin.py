"""The projector's own bookkeeping in the admin (the read models' pages are in compliance.admin)."""

from __future__ import annotations

from django.contrib import admin

from evidence.core.admin_base import ProjectionAdmin
from evidence.readmodels.models import ProjectionError


@admin.register(ProjectionError)
class ProjectionErrorAdmin(ProjectionAdmin):
    """Entries a projector could not apply: the evidence is in the ledger, its read-model row is not."""

    list_display = ["seq", "kind", "projector", "error", "seen_at"]
    list_filter = ["kind", "projector"]
    search_fields = ["=seq", "error"]
