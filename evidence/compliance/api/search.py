"""GET /api/v1/search/?q=: a commit SHA (prefix), image digest, pull/merge request or login, and where
and when what it names ran. Views validate, call one function, serialise."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evidence.compliance.search import FORMS, BadQuery, search
from evidence.core.permissions import ReadsEvidence


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class SearchDeploymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    environment = serializers.CharField()
    application = serializers.CharField()
    revision = serializers.CharField()
    image_digests = serializers.ListField(child=serializers.CharField())
    finished_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    ran_from = serializers.DateTimeField(allow_null=True, help_text="When it took effect (null: it never did)")
    ran_until = serializers.DateTimeField(allow_null=True, help_text="When the next deployment took over")
    running_now = serializers.BooleanField()
    entry_seqs = serializers.ListField(child=serializers.IntegerField())
    links = serializers.DictField(child=serializers.CharField())


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    kind = serializers.ChoiceField(choices=["commit", "digest", "change", "person"], help_text="What q was taken for")
    found = serializers.BooleanField()
    matches = serializers.ListField(
        child=serializers.DictField(),
        help_text="Commits, pull/merge requests, images, builds and reviews found, each with `kind` and `links`",
    )
    deployments = SearchDeploymentSerializer(many=True, help_text="Where and when it ran, newest first")
    truncated = serializers.BooleanField(help_text="More rows matched than are listed")


class SearchView(APIView):
    """Find a commit, digest, pull/merge request or person, and the deployments it reached."""

    permission_classes = [ReadsEvidence]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True, description=f"One of: {FORMS}.")],
        responses={200: SearchResultSerializer, 400: DetailSerializer},
        examples=[OpenApiExample("A Flux revision", value="main@sha1:3f1c9a2", parameter_only=("q", "query"))],
    )
    def get(self, request: Request) -> Response:
        try:
            return Response(search(request.query_params.get("q", "")))
        except BadQuery as exc:
            return Response({"detail": str(exc)}, status=400)
