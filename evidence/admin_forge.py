"""Forge read models in the admin: read-only (they are rebuilt from the ledger), one query per page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Approval, ProtectionObservation, ProtectionSnapshot, PullRequest


class ProjectionAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ApprovalInline(admin.TabularInline):
    model = Approval
    fields = ["reviewer", "state", "commit_id", "submitted_at", "dismissed", "dismissed_by", "entry_seq"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PullRequest)
class PullRequestAdmin(ProjectionAdmin):
    list_display = ["__str__", "base", "author", "merged_by", "merged_at", "merge_commit_sha", "entry_seq"]
    list_filter = ["forge", "base"]
    search_fields = ["repository", "=merge_commit_sha", "=squash_commit_sha", "=head_sha", "author", "title"]
    date_hierarchy = "merged_at"
    inlines = [ApprovalInline]


@admin.register(Approval)
class ApprovalAdmin(ProjectionAdmin):
    list_display = ["repository", "number", "reviewer", "state", "commit_id", "submitted_at", "dismissed", "entry_seq"]
    list_filter = ["forge", "state", "dismissed"]
    search_fields = ["repository", "reviewer", "=commit_id"]


@admin.register(ProtectionSnapshot)
class ProtectionSnapshotAdmin(ProjectionAdmin):
    list_display = ["repository", "branch", "forge", "observed_at", "content_hash", "entry_seq"]
    list_filter = ["forge", "branch"]
    search_fields = ["repository"]


@admin.register(ProtectionObservation)
class ProtectionObservationAdmin(ProjectionAdmin):
    list_display = ["repository", "branch", "forge", "observed_at", "changed", "content_hash", "source", "entry_seq"]
    list_filter = ["forge", "changed", "source"]
    search_fields = ["repository"]
