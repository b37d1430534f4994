"""Read-only API for deployments and what was running where (`/api/v1/deployments/`, `/running/`).

Views validate, call one function, serialise. Every answer names the entries that prove it.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evidence.compliance.custody.verdict import VERDICTS
from evidence.compliance.models import DeploymentVerdict
from evidence.compliance.running import BadTime, UnknownEnvironment, diff_running, resolve, running_at
from evidence.core.permissions import ReadsEvidence
from evidence.readmodels.models import Deployment, DeploymentContainer, DeploymentImage
from evidence.readmodels.models.deployments import OUTCOMES
from ledger.bounds import UtcIsoDateTimeFilter


class DeploymentImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeploymentImage
        fields = ["digest", "image", "origin", "entry_seq"]


class DeploymentContainerSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeploymentContainer
        fields = [
            "workload",
            "container",
            "container_type",
            "image",
            "digest",
            "resolved_by",
            "entry_seq",
            "resolved_seq",
        ]


class DeploymentSerializer(serializers.ModelSerializer):
    images = DeploymentImageSerializer(many=True, read_only=True)
    containers = DeploymentContainerSerializer(many=True, read_only=True)
    verdict = serializers.SerializerMethodField(help_text="compliant, exception, incomplete or attempt")
    verdict_reason = serializers.SerializerMethodField(help_text="The verdict in one sentence")

    def _verdict(self, row: Deployment) -> DeploymentVerdict | None:
        try:
            return row.verdict_row
        except DeploymentVerdict.DoesNotExist:
            return None  # not judged yet (the projector's settler has not run)

    @extend_schema_field(serializers.ChoiceField(choices=list(VERDICTS), allow_null=True))
    def get_verdict(self, row: Deployment) -> str | None:
        verdict = self._verdict(row)
        return verdict.verdict if verdict else None

    def get_verdict_reason(self, row: Deployment) -> str:
        verdict = self._verdict(row)
        return verdict.reason if verdict else ""

    class Meta:
        model = Deployment
        fields = [
            "id",
            "environment",
            "application",
            "controller",
            "source",
            "subject",
            "external_id",
            "revision",
            "image_refs",
            "image_digests",
            "images",
            "containers",
            "started_at",
            "finished_at",
            "running_since",
            "outcome",
            "phase",
            "health",
            "initiated_by",
            "automated",
            "message",
            "entry_seqs",
            "verdict",
            "verdict_reason",
        ]


class DeploymentFilter(filters.FilterSet):
    environment = filters.CharFilter()
    application = filters.CharFilter()
    controller = filters.CharFilter()
    outcome = filters.MultipleChoiceFilter(choices=[(o, o) for o in OUTCOMES])
    revision = filters.CharFilter(lookup_expr="startswith", help_text="Full revision or a prefix of it.")
    digest = filters.CharFilter(field_name="images__digest", help_text="An image digest, sha256:<hex>.")
    started_after = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    finished_after = UtcIsoDateTimeFilter(field_name="finished_at", lookup_expr="gte")
    finished_before = UtcIsoDateTimeFilter(field_name="finished_at", lookup_expr="lt")
    verdict = filters.ChoiceFilter(field_name="verdict_row__verdict", choices=[(v, v) for v in VERDICTS])

    class Meta:
        model = Deployment
        fields: list[str] = []


class DeploymentViewSet(viewsets.ReadOnlyModelViewSet):
    """Deployments harvested from Argo CD and Flux, newest first, with the entries behind each."""

    serializer_class = DeploymentSerializer
    permission_classes = [IsAuthenticated, ReadsEvidence]
    filterset_class = DeploymentFilter

    def get_queryset(self) -> QuerySet[Deployment]:
        return (
            Deployment.objects.select_related("verdict_row")
            .prefetch_related("images", "containers")
            .order_by("-started_at", "-id")
            .distinct()
        )


AT_HELP = (
    "ISO 8601 time (2026-03-01T12:00Z), 'now', 'today', 'yesterday', 'N days ago' or 'N.days.ago' (seconds ... "
    "years), '~N' (N deployments back, ~0 the latest) or '#N' (the N-th snapshot since the first, from #1)."
)
ENV_HELP = "An environment, or a whole query: prod@{3.weeks.ago}, prod#42 (the 42nd snapshot), prod~2."


class UnknownEnvironmentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    known_environments = serializers.ListField(child=serializers.CharField())


def _unknown(exc: UnknownEnvironment) -> Response:
    return Response({"detail": str(exc), "known_environments": exc.known}, status=404)


class RunningView(APIView):
    """Per application, what was running in an environment at a time."""

    permission_classes = [IsAuthenticated, ReadsEvidence]

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", str, required=True, description=ENV_HELP),
            OpenApiParameter("at", str, description=AT_HELP + " Default: now."),
        ],
        responses={200: dict, 400: dict, 404: UnknownEnvironmentSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            environment, at = resolve(request.query_params.get("environment", ""), request.query_params.get("at"))
        except BadTime as exc:
            return Response({"detail": str(exc)}, status=400)
        except UnknownEnvironment as exc:
            return _unknown(exc)
        return Response(running_at(environment, at).as_dict())


class RunningDiffView(APIView):
    """Applications added, removed and changed between two times, or two environments, or both: what
    the controller named (revision, digests) and what the pods ran, per container."""

    permission_classes = [IsAuthenticated, ReadsEvidence]

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", str, description="Both sides, unless from_/to_environment say."),
            OpenApiParameter("from_environment", str, description=ENV_HELP),
            OpenApiParameter("to_environment", str, description=ENV_HELP),
            OpenApiParameter("from", str, description=AT_HELP + " Default: now."),
            OpenApiParameter("to", str, description=AT_HELP + " Default: now."),
        ],
        responses={200: dict, 400: dict, 404: UnknownEnvironmentSerializer},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        environment = params.get("environment", "").strip()
        before_env = params.get("from_environment", "").strip() or environment
        after_env = params.get("to_environment", "").strip() or environment
        if not before_env or not after_env:
            return Response({"detail": "give 'environment', or 'from_environment' and 'to_environment'"}, status=400)
        try:
            before = resolve(before_env, params.get("from"))
            after = resolve(after_env, params.get("to"))
        except BadTime as exc:
            return Response({"detail": str(exc)}, status=400)
        except UnknownEnvironment as exc:
            return _unknown(exc)
        return Response(diff_running(running_at(*before), running_at(*after)))
