"""GET /api/v1/pull-requests/: merged pull/merge requests with their approvals, read-only.

Filters: forge, repository, base, number, commit (any SHA of the change, its merge or squash
commit), merged_after, merged_before. Each item cites the ledger entries behind it.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from rest_framework import generics, serializers

from evidence.readmodels.models import Approval, PullRequest
from ledger.bounds import UtcIsoDateTimeFilter


class ApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Approval
        fields = [
            "review_id",
            "reviewer",
            "state",
            "commit_id",
            "submitted_at",
            "dismissed",
            "dismissed_by",
            "dismissed_at",
            "entry_seq",
            "dismissal_seq",
        ]


class PullRequestSerializer(serializers.ModelSerializer):
    approvals = ApprovalSerializer(many=True, read_only=True)

    class Meta:
        model = PullRequest
        fields = [
            "forge",
            "repository",
            "number",
            "title",
            "url",
            "author",
            "base",
            "head_sha",
            "merge_commit_sha",
            "squash_commit_sha",
            "merged_at",
            "merged_by",
            "commits",
            "source",
            "entry_seq",
            "approvals",
        ]


class PullRequestFilter(django_filters.FilterSet):
    commit = django_filters.CharFilter(method="filter_commit", label="A commit SHA the change contains or made")
    merged_after = UtcIsoDateTimeFilter(field_name="merged_at", lookup_expr="gte")
    merged_before = UtcIsoDateTimeFilter(field_name="merged_at", lookup_expr="lte")

    class Meta:
        model = PullRequest
        fields = ["forge", "repository", "base", "number"]

    def filter_commit(self, queryset: QuerySet[PullRequest], name: str, value: str) -> QuerySet[PullRequest]:
        sha = value.strip().lower()
        return queryset.filter(Q(merge_commit_sha=sha) | Q(squash_commit_sha=sha) | Q(commit_rows__sha=sha)).distinct()


class PullRequestList(generics.ListAPIView):
    serializer_class = PullRequestSerializer
    filterset_class = PullRequestFilter
    queryset = PullRequest.objects.order_by("-merged_at", "forge", "repository", "-number").prefetch_related(
        Prefetch("approvals", queryset=Approval.objects.order_by("submitted_at", "id"))
    )
