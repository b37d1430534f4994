"""Ledger pages in the admin: read-only for everyone, superusers included."""

import json
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html

from .inclusion_check import check_inclusion
from .models import Checkpoint, Entry


class ReadOnlyMixin:
    """For the ledger and every projection (read model): nobody adds, changes or deletes through the
    admin, superusers included. Shared by ModelAdmins and inlines across apps."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "kind", "subject", "source", "occurred_at", "observed_at"]
    list_filter = ["kind", "source"]
    search_fields = ["=seq", "subject", "idempotency_key"]
    readonly_fields = [
        "seq",
        "kind",
        "source",
        "subject",
        "idempotency_key",
        "observed_at",
        "occurred_at",
        "sequenced_at",
        "leaf_hex",
        "chain_hex",
        "payload_text",
    ]
    exclude = ["payload", "leaf_hash", "chain_hash"]
    show_full_result_count = False  # COUNT(*) over millions of entries on every page is slow
    ordering = ["-seq"]
    change_form_template = "admin/ledger/entry/change_form.html"  # adds the verify button

    def get_urls(self) -> list[URLPattern]:
        verify = path("<int:seq>/verify/", self.admin_site.admin_view(self.verify_view), name="ledger_entry_verify")
        return [verify, *super().get_urls()]

    def verify_view(self, request: HttpRequest, seq: int) -> HttpResponse:
        """Check inclusion of the entry in the latest signed checkpoint, here on the server."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Verify entry {seq}",
            "check": check_inclusion(seq),
        }
        return TemplateResponse(request, "admin/ledger/entry/verify.html", context)

    @admin.display(description="leaf hash")
    def leaf_hex(self, obj: Entry) -> str:
        return bytes(obj.leaf_hash).hex()

    @admin.display(description="chain hash")
    def chain_hex(self, obj: Entry) -> str:
        return bytes(obj.chain_hash).hex()

    @admin.display(description="payload (stored as canonical JSON; shown indented)")
    def payload_text(self, obj: Entry) -> str:
        """Indented for reading; the hashed bytes are the canonical form (leaf hash above)."""
        text = bytes(obj.payload).decode("utf-8")
        try:
            shown = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:  # never expected (the ledger stores only canonical JSON), but show it as stored
            shown = text
        style = "white-space: pre-wrap; overflow-wrap: anywhere; max-height: 40em; overflow-y: auto; margin: 0"
        return format_html('<pre class="payload" style="{}">{}</pre>', style, shown)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["size", "key_id", "signed_at"]
    readonly_fields = ["size", "key_id", "signed_at", "root_hex", "note"]
    exclude = ["root", "timestamp_token"]

    @admin.display(description="root")
    def root_hex(self, obj: Checkpoint) -> str:
        return bytes(obj.root).hex()
