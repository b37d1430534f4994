"""Audit packs in the admin: a read-only list with a download link (packs are made by the API or command)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import AuditPack


@admin.register(AuditPack)
class AuditPackAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "requested_by_name", "created_at", "finished_at", "pages", "size", "download"]
    list_filter = ["status"]
    search_fields = ["sha256", "requested_by_name"]
    readonly_fields = [f.name for f in AuditPack._meta.fields] + ["download"]
    list_select_related = ["requested_by"]

    @admin.display(description="PDF")
    def download(self, pack: AuditPack) -> str:
        if pack.status != AuditPack.Status.DONE:
            return "-"
        return format_html('<a href="{}">download</a>', reverse("exports:pack-download", args=[pack.pk]))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a pack's request is part of the audit trail (its PDF is also a ledger entry)
