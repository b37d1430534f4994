"""The projector's admin: entries it could not apply, and a check that every read model's admin is read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core import checks

from evidence.core.admin_base import ProjectionAdmin
from evidence.readmodels.models import ProjectionError
from evidence.readmodels.projectors import projection_models
from ledger.admin import ReadOnlyMixin
from ledger.models import Checkpoint, Entry


@admin.register(ProjectionError)
class ProjectionErrorAdmin(ProjectionAdmin):
    """Entries a projector could not apply: the evidence is in the ledger, its read-model row is not."""

    list_display = ["seq", "kind", "projector", "error", "seen_at"]
    list_filter = ["kind", "projector"]
    search_fields = ["=seq", "error"]


@checks.register(checks.Tags.admin)
def check_projections_read_only(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every registered projection and ledger model must use ReadOnlyMixin (the admin must not edit evidence)."""
    errors = []
    for model in [*projection_models(), Entry, Checkpoint]:
        model_admin = admin.site._registry.get(model)
        if model_admin is not None and not isinstance(model_admin, ReadOnlyMixin):
            errors.append(
                checks.Error(
                    f"{model._meta.label} is evidence but its admin {type(model_admin).__name__} is not read-only",
                    hint="Derive it from evidence.core.admin_base.ProjectionAdmin.",
                    id="evidence.E001",
                )
            )
    return errors
