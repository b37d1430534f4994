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
from evidence.compliance.admin.pull_request_view import pull_request_context
from evidence.core.admin_base import ProjectionAdmin, ReadOnlyInline
from evidence.readmodels.models import Approval, ProtectionObservation, ProtectionSnapshot, PullRequest


def dismissed_words(obj: Approval) -> str:
    """In words, not a red cross: "No" is the good answer for a review that stood."""
    if not obj.dismissed:
        return "No"
    by = f" by {obj.dismissed_by}" if obj.dismissed_by else ""
    at = f" at {obj.dismissed_at:%Y-%m-%d %H:%M}" if obj.dismissed_at else ""
    return f"Yes{by}{at}"


class ApprovalInline(ReadOnlyInline):
    model = Approval
    fields = ["reviewer_flagged", "state", "short_commit", "submitted_at", "dismissed_text", "entry_seq"]

    @admin.display(description="reviewer")
    def reviewer_flagged(self, obj: Approval) -> str:
        pull = obj.pull_request
        if pull is not None and obj.reviewer and obj.reviewer == pull.author:
            return format_html('{} <span class="flag">self-approval (the author)</span>', obj.reviewer)
        return obj.reviewer or "unknown"

    @admin.display(description="given on commit")
    def short_commit(self, obj: Approval) -> str:
        return format_html('<code title="{}">{}</code>', obj.commit_id, obj.commit_id[:12])

    @admin.display(description="dismissed")
    def dismissed_text(self, obj: Approval) -> str:
        return dismissed_words(obj)


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
        "short_merge_commit",
    ]
    list_filter = ["forge", "base"]
    search_fields = ["repository", "=number", "=merge_commit_sha", "=squash_commit_sha", "=head_sha", "author", "title"]
    date_hierarchy = "merged_at"
    show_full_result_count = False
    inlines = [ApprovalInline]
    exclude = ["commits"]
    change_form_template = "admin/readmodels/pullrequest/change_form.html"

    class Media:
        css = {"all": ["compliance/ux.css"]}

    @admin.display(description="merge commit", ordering="merge_commit_sha")
    def short_merge_commit(self, obj: PullRequest) -> str:
        sha = obj.merge_commit_sha or obj.squash_commit_sha
        return format_html('<code title="{}">{}</code>', sha, sha[:12])

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        pull = PullRequest.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        extra = pull_request_context(pull) if pull is not None else {}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

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
    list_display = ["repository", "number", "reviewer", "state", "commit_id", "submitted_at", "dismissed_text"]
    list_filter = ["forge", "state", "dismissed"]
    search_fields = ["repository", "reviewer", "=commit_id"]
    show_full_result_count = False

    @admin.display(description="dismissed", ordering="dismissed")
    def dismissed_text(self, obj: Approval) -> str:
        return dismissed_words(obj)


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
