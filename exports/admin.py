"""Audit packs in the admin: a read-only list with a download link, and a form to request one."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from .forms import PackRequestForm
from .jobs import request_pack
from .models import AuditPack
from .permissions import PACK_GROUPS
from .tasks import build_audit_pack


@admin.register(AuditPack)
class AuditPackAdmin(admin.ModelAdmin):
    list_display = ["id", "status_text", "requested_by_name", "created_at", "finished_at", "pages", "size", "download"]
    list_filter = ["status"]
    search_fields = ["sha256", "requested_by_name"]
    readonly_fields = [f.name for f in AuditPack._meta.fields] + ["download"]
    list_select_related = ["requested_by"]

    @admin.display(description="status", ordering="status")
    def status_text(self, pack: AuditPack) -> str:
        """In words and colour; a failed pack says why (its error) rather than looking done."""
        colour = {AuditPack.Status.DONE: "#2e7d32", AuditPack.Status.FAILED: "#ba2121"}.get(pack.status, "#555")
        words = "failed: " + pack.error[:200] if pack.status == AuditPack.Status.FAILED else pack.status
        return format_html('<strong style="color: {}">{}</strong>', colour, words)

    @admin.display(description="PDF")
    def download(self, pack: AuditPack) -> str:
        if pack.status != AuditPack.Status.DONE:
            return "-"
        return format_html('<a href="{}">download</a>', reverse("exports:pack-download", args=[pack.pk]))

    def _in_pack_groups(self, request) -> bool:
        user = request.user
        return user.is_active and (user.is_superuser or user.groups.filter(name__in=PACK_GROUPS).exists())

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or self._in_pack_groups(request)

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or self._in_pack_groups(request)

    def has_add_permission(self, request) -> bool:
        """The request form: for auditors and engineers, as in the API."""
        return self._in_pack_groups(request)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PackRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                pack = request_pack(form.cleaned_data["scope"], request.user, enqueue=build_audit_pack.delay)
            pack.refresh_from_db()
            if pack.status == AuditPack.Status.FAILED:  # built inline and failed: an error, never a green tick
                self.message_user(request, f"Audit pack {pack.pk} failed: {pack.error}", messages.ERROR)
            else:
                self.message_user(request, f"Audit pack {pack.pk} requested: {pack.status}.", messages.SUCCESS)
            return redirect("admin:exports_auditpack_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta, "title": "Request"}
        return TemplateResponse(request, "admin/exports/auditpack/request.html", context)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a pack's request is part of the audit trail (its PDF is also a ledger entry)
