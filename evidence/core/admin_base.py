"""What every evidence admin page shares: read-only projections and links to the entries behind a row.

The check that no projection model slips through with an editable admin is in evidence.readmodels.admin,
beside the registry of projection models it reads.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
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
