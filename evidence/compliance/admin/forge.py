"""Forge read models in the admin: pull requests with their approvals, protection and its history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from evidence.compliance.admin.protection import timeline_view
from evidence.core.admin_base import ProjectionAdmin, ReadOnlyInline
from evidence.readmodels.models import Approval, ProtectionObservation, ProtectionSnapshot, PullRequest


class ApprovalInline(ReadOnlyInline):
    model = Approval
    fields = ["reviewer", "state", "commit_id", "submitted_at", "dismissed", "dismissed_by", "entry_seq"]


@admin.register(PullRequest)
class PullRequestAdmin(ProjectionAdmin):
    list_display = [
        "__str__",
        "title",
        "base",
        "author",
        "merged_by",
        "merged_at",
        "approval_count",
        "merge_commit_sha",
        "entry_seq",
    ]
    list_filter = ["forge", "base"]
    search_fields = ["repository", "=number", "=merge_commit_sha", "=squash_commit_sha", "=head_sha", "author", "title"]
    date_hierarchy = "merged_at"
    show_full_result_count = False
    inlines = [ApprovalInline]
    exclude = ["commits"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PullRequest]:
        approved = (
            Approval.objects.filter(pull_request=OuterRef("pk"), state="APPROVED", dismissed=False)
            .values("pull_request")
            .annotate(n=Count("*"))
            .values("n")
        )
        return super().get_queryset(request).annotate(approvals_n=Coalesce(Subquery(approved), 0))

    @admin.display(description="approvals", ordering="approvals_n")
    def approval_count(self, obj: PullRequest) -> int:
        return obj.approvals_n


@admin.register(Approval)
class ApprovalAdmin(ProjectionAdmin):
    list_display = ["repository", "number", "reviewer", "state", "commit_id", "submitted_at", "dismissed", "entry_seq"]
    list_filter = ["forge", "state", "dismissed"]
    search_fields = ["repository", "reviewer", "=commit_id"]
    show_full_result_count = False


@admin.register(ProtectionSnapshot)
class ProtectionSnapshotAdmin(ProjectionAdmin):
    list_display = ["repository", "branch", "forge", "observed_at", "history", "content_hash", "entry_seq"]
    list_filter = ["forge", "branch"]
    search_fields = ["repository"]

    def get_urls(self) -> list[Any]:
        timeline = path("timeline/", self.admin_site.admin_view(timeline_view), name="evidence_protection_timeline")
        return [timeline, *super().get_urls()]

    @admin.display(description="timeline")
    def history(self, obj: ProtectionSnapshot) -> str:
        url = reverse("admin:evidence_protection_timeline")
        query = "?" + urlencode({"forge": obj.forge, "repository": obj.repository, "branch": obj.branch})
        return format_html('<a href="{}{}">history</a>', url, query)


@admin.register(ProtectionObservation)
class ProtectionObservationAdmin(ProjectionAdmin):
    list_display = ["repository", "branch", "forge", "observed_at", "changed", "content_hash", "source", "entry_seq"]
    list_filter = ["forge", "changed", "source"]
    search_fields = ["repository"]
    show_full_result_count = False
