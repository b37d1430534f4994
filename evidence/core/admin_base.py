"""What every evidence admin page shares: read-only projections, and a check that none slips through."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core import checks
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from ledger.admin import ReadOnlyMixin


class ProjectionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A read model: rebuilt from the ledger, browsed, never edited by hand."""

    list_per_page = 50


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields or [])


def entry_links(seqs: list[int] | tuple[int, ...]) -> str:
    """Links to the ledger entries that prove a row, as the entry admin shows them."""
    return format_html_join(
        ", ", '<a href="{}">#{}</a>', ((reverse("admin:ledger_entry_change", args=[s]), s) for s in seqs)
    ) or format_html("{}", "-")


@checks.register(checks.Tags.admin)
def check_projections_read_only(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every registered projection and ledger model must use ReadOnlyMixin (the admin must not edit evidence)."""
    from evidence.readmodels.projectors import projection_models
    from ledger.models import Checkpoint, Entry

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
