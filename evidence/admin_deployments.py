"""Admin for the deployments read model: browse and search only (rows come from the ledger).

Registered when `evidence/admin.py` imports this module (`from . import admin_deployments`).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Deployment, DeploymentGap, DeploymentImage, WorkloadSnapshot


class ReadOnly(admin.ModelAdmin):
    """Projected rows: rebuilt from the ledger, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DeploymentImageInline(admin.TabularInline):
    model = DeploymentImage
    fields = ["digest", "image", "origin", "entry_seq"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Deployment)
class DeploymentAdmin(ReadOnly):
    list_display = ["started_at", "environment", "application", "revision", "outcome", "controller", "initiated_by"]
    list_filter = ["environment", "outcome", "controller"]
    search_fields = ["application", "revision", "images__digest", "subject"]
    date_hierarchy = "started_at"
    inlines = [DeploymentImageInline]


@admin.register(DeploymentGap)
class DeploymentGapAdmin(ReadOnly):
    list_display = ["environment", "application", "subject", "missing", "after", "before", "entry_seq"]
    list_filter = ["environment", "controller"]
    search_fields = ["application", "subject"]


@admin.register(WorkloadSnapshot)
class WorkloadSnapshotAdmin(ReadOnly):
    list_display = ["observed_at", "environment", "application", "namespace", "digests", "entry_seq"]
    list_filter = ["environment"]
    search_fields = ["application", "namespace"]
