"""Ledger pages in the admin: read-only for everyone, superusers included."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Checkpoint, Entry


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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

    @admin.display(description="leaf hash")
    def leaf_hex(self, obj: Entry) -> str:
        return bytes(obj.leaf_hash).hex()

    @admin.display(description="chain hash")
    def chain_hex(self, obj: Entry) -> str:
        return bytes(obj.chain_hash).hex()

    @admin.display(description="canonical payload")
    def payload_text(self, obj: Entry) -> str:
        return bytes(obj.payload).decode("utf-8")


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["size", "key_id", "signed_at"]
    readonly_fields = ["size", "key_id", "signed_at", "root_hex", "note"]
    exclude = ["root", "timestamp_token"]

    @admin.display(description="root")
    def root_hex(self, obj: Checkpoint) -> str:
        return bytes(obj.root).hex()
