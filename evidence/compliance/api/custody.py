"""Chain of custody, findings and policies over the API.

GET  /api/v1/deployments/<id>/custody/   the chain, its links and findings
GET  /api/v1/findings/                   filters: environment, application, severity, code, status,
                                         repository, deployment, since, until (deployment time)
GET  /api/v1/findings/summary/           per environment and period: deployments by verdict, the
                                         compliance rate, findings by code and status
POST /api/v1/findings/<id>/accept/       engineers: propose a risk acceptance {reason, until}
GET/POST /api/v1/policies/               versions of environment policies; engineers propose one
(approvals by a second engineer: evidence.compliance.api.approvals)

Views validate, call one function (build_custody, propose_acceptance, propose_policy), serialise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evidence.compliance.custody import build_custody
from evidence.compliance.custody.chain import REASONS, STATUSES
from evidence.compliance.custody.verdict import VERDICTS, tally
from evidence.compliance.findings import CODES, PolicyError, propose_acceptance, propose_policy
from evidence.compliance.models import SEVERITIES, DeploymentVerdict, Finding, Policy
from evidence.core.permissions import EngineersWrite, ReadsEvidence
from evidence.readmodels.models import Deployment
from ledger.bounds import IdFilter, UtcIsoDateTimeFilter


class LinkSerializer(serializers.Serializer):
    name = serializers.CharField()
    rule = serializers.CharField(help_text="The rule module that judged it (evidence.compliance.custody.rules)")
    path = serializers.ChoiceField(choices=["deployment", "image", "config", "change"])
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=list(STATUSES))
    reason = serializers.ChoiceField(
        choices=["", *REASONS], help_text="Why a link is not evidenced: not looked, could not read, looked too late"
    )
    explanation = serializers.CharField()
    entry_seqs = serializers.ListField(child=serializers.IntegerField())
    url = serializers.CharField(allow_blank=True)
    findings = serializers.ListField(child=serializers.CharField())


class ChainFindingSerializer(serializers.Serializer):
    key = serializers.CharField()
    code = serializers.CharField()
    severity = serializers.CharField()
    title = serializers.CharField()
    subject = serializers.CharField()
    explanation = serializers.CharField()
    entry_seqs = serializers.ListField(child=serializers.IntegerField())
    controls = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=["open", "accepted"])
    accepted_until = serializers.DateTimeField(allow_null=True)
    accepted_by = serializers.CharField(allow_blank=True)
    acceptance_reason = serializers.CharField(allow_blank=True)
    acceptance_seq = serializers.IntegerField(allow_null=True)
    acceptance_approved_by = serializers.CharField(allow_blank=True)
    acceptance_approval_seq = serializers.IntegerField(allow_null=True)


class CustodySerializer(serializers.Serializer):
    deployment = serializers.IntegerField()
    identity = serializers.CharField()
    environment = serializers.CharField()
    application = serializers.CharField()
    revision = serializers.CharField()
    deployed_at = serializers.DateTimeField()
    outcome = serializers.CharField()
    attempt = serializers.BooleanField(help_text="A failed or unfinished sync: shown, never judged")
    verdict = serializers.ChoiceField(choices=list(VERDICTS))
    verdict_reason = serializers.CharField(help_text="The verdict in one sentence")
    policy = serializers.DictField()
    links = LinkSerializer(many=True)
    findings = ChainFindingSerializer(many=True)
    entry_seqs = serializers.ListField(child=serializers.IntegerField())


class CustodyView(APIView):
    permission_classes = [IsAuthenticated, ReadsEvidence]

    @extend_schema(responses=CustodySerializer, summary="Chain of custody of a deployment")
    def get(self, request: Request, pk: int) -> Response:
        deployment = get_object_or_404(Deployment, pk=pk)
        return Response(build_custody(deployment).as_json(datetime.now(UTC)))


class FindingSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "key",
            "code",
            "title",
            "severity",
            "status",
            "environment",
            "application",
            "deployment",
            "deployed_at",
            "subject",
            "repository",
            "explanation",
            "controls",
            "entry_seqs",
            "policy_seq",
            "accepted_until",
            "accepted_by",
            "acceptance_reason",
            "acceptance_seq",
            "acceptance_approved_by",
            "acceptance_approval_seq",
        ]

    def get_status(self, row: Finding) -> str:
        return row.status_at(self.context["now"])

    def get_title(self, row: Finding) -> str:
        return CODES[row.code].title if row.code in CODES else row.code


class FindingFilter(filters.FilterSet):
    environment = filters.CharFilter()
    application = filters.CharFilter()
    repository = filters.CharFilter()
    deployment = IdFilter(field_name="deployment_id")
    severity = filters.ChoiceFilter(choices=SEVERITIES)
    code = filters.ChoiceFilter(choices=[(c, c) for c in CODES])
    status = filters.ChoiceFilter(choices=[("open", "open"), ("accepted", "accepted")], method="filter_status")
    since = UtcIsoDateTimeFilter(field_name="deployed_at", lookup_expr="gte", label="Deployed at or after")
    until = UtcIsoDateTimeFilter(field_name="deployed_at", lookup_expr="lt", label="Deployed before")

    class Meta:
        model = Finding
        fields = ["environment", "application", "repository", "deployment", "severity", "code"]

    def filter_status(self, queryset: QuerySet[Finding], name: str, value: str) -> QuerySet[Finding]:
        accepted = Q(accepted_until__gt=datetime.now(UTC))
        return queryset.filter(accepted) if value == "accepted" else queryset.exclude(accepted)


class FindingList(generics.ListAPIView):
    permission_classes = [IsAuthenticated, ReadsEvidence]
    serializer_class = FindingSerializer
    filterset_class = FindingFilter
    queryset = Finding.objects.order_by("-deployed_at", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": datetime.now(UTC)}


class SummaryQuery(serializers.Serializer):
    environment = serializers.CharField(required=False)
    since = serializers.DateTimeField(required=False, help_text="Deployed at or after")
    until = serializers.DateTimeField(required=False, help_text="Deployed before")


class VerdictCountsSerializer(serializers.Serializer):
    deployments = serializers.IntegerField(help_text="Judged deployments (attempts excluded)")
    compliant = serializers.IntegerField()
    exception = serializers.IntegerField(help_text="With a violation, open or accepted")
    incomplete = serializers.IntegerField(help_text="No violation, some link not evidenced")
    attempts = serializers.IntegerField(help_text="Failed or unfinished syncs, never judged")
    compliance_rate = serializers.CharField(allow_null=True, help_text="compliant / deployments, a decimal string")


class SummarySerializer(serializers.Serializer):
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    environments = serializers.DictField(child=VerdictCountsSerializer())
    findings = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()))


class FindingSummary(APIView):
    """Per environment over a period: deployments by verdict, the compliance rate, findings by code."""

    permission_classes = [IsAuthenticated, ReadsEvidence]

    @extend_schema(parameters=[SummaryQuery], responses=SummarySerializer, summary="Verdicts and findings by period")
    def get(self, request: Request) -> Response:
        form = SummaryQuery(data=request.query_params)
        form.is_valid(raise_exception=True)
        since, until = form.validated_data.get("since"), form.validated_data.get("until")
        where = Q()
        if form.validated_data.get("environment"):
            where &= Q(environment=form.validated_data["environment"])
        if since is not None:
            where &= Q(deployed_at__gte=since)
        if until is not None:
            where &= Q(deployed_at__lt=until)
        verdicts = DeploymentVerdict.objects.filter(where).values_list("environment", "verdict")
        findings: dict[str, dict[str, int]] = {}
        now = datetime.now(UTC)
        for environment, code, accepted_until in Finding.objects.filter(where).values_list(
            "environment", "code", "accepted_until"
        ):
            counts = findings.setdefault(environment, {})
            key = f"{code}:{'accepted' if accepted_until is not None and accepted_until > now else 'open'}"
            counts[key] = counts.get(key, 0) + 1
        body = {"since": since, "until": until, "environments": tally(verdicts), "findings": findings}
        return Response(SummarySerializer(body).data)


class AcceptSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the risk is accepted (at least 10 characters)")
    until = serializers.DateTimeField(help_text="When the acceptance ends (in the future)")


class AcceptedSerializer(serializers.Serializer):
    finding = serializers.CharField()
    seq = serializers.IntegerField(allow_null=True)
    created = serializers.BooleanField()


class FindingAccept(APIView):
    permission_classes = [IsAuthenticated, EngineersWrite]

    @extend_schema(
        request=AcceptSerializer,
        responses={201: AcceptedSerializer},
        summary="Propose accepting a finding's risk (in effect once another engineer approves)",
    )
    def post(self, request: Request, pk: int) -> Response:
        finding = get_object_or_404(Finding, pk=pk)
        form = AcceptSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appended = propose_acceptance(
                finding.key, request.user.get_username(), form.validated_data["reason"], form.validated_data["until"]
            )
        except PolicyError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        body = {"finding": finding.key, "seq": appended.seq, "created": appended.created}
        return Response(body, status=status.HTTP_201_CREATED if appended.created else status.HTTP_200_OK)


class PolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = Policy
        fields = [
            "id",
            "environment",
            "version",
            "min_approvals",
            "require_signature",
            "trusted_signers",
            "require_provenance",
            "trusted_builders",
            "protection",
            "effective_at",
            "recorded_by",
            "entry_seq",
            "approved_by",
            "approved_at",
            "approval_seq",
        ]


class PolicyInputSerializer(serializers.Serializer):
    environment = serializers.CharField()
    min_approvals = serializers.IntegerField(required=False)
    require_signature = serializers.BooleanField(required=False)
    trusted_signers = serializers.ListField(child=serializers.CharField(), required=False)
    require_provenance = serializers.BooleanField(required=False)
    trusted_builders = serializers.ListField(child=serializers.CharField(), required=False)
    protection = serializers.DictField(required=False)
    effective_at = serializers.DateTimeField(required=False)


class RecordedSerializer(serializers.Serializer):
    seq = serializers.IntegerField(allow_null=True, help_text="Null until sequenced (a queued append)")
    created = serializers.BooleanField(help_text="False: these rules were already in force")


class PolicyList(generics.ListAPIView):
    permission_classes = [IsAuthenticated, EngineersWrite]
    serializer_class = PolicySerializer
    queryset = Policy.objects.order_by("environment", "-version")
    filterset_fields = ["environment"]

    @extend_schema(
        request=PolicyInputSerializer,
        responses={201: RecordedSerializer},
        summary="Propose a policy version (in force once another engineer approves)",
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            return Response({"detail": "expected a JSON object"}, status=status.HTTP_400_BAD_REQUEST)
        form = PolicyInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        rules = {k: v for k, v in request.data.items() if k not in ("environment", "effective_at")}
        try:
            appended = propose_policy(
                form.validated_data["environment"],
                request.user.get_username(),
                rules,
                effective_at=form.validated_data.get("effective_at"),
            )
        except PolicyError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        body = {"seq": appended.seq, "created": appended.created}
        return Response(body, status=status.HTTP_201_CREATED if appended.created else status.HTTP_200_OK)
