"""Four eyes over the API: a second engineer approves what another proposed.

GET  /api/v1/acceptances/?pending=true        risk acceptances, proposed and approved (readers)
POST /api/v1/acceptances/<seq>/approve/       engineers: approve the proposal at entry <seq>
POST /api/v1/policies/<seq>/approve/          engineers: approve the policy version proposed at <seq>

Views validate, call one function (approve_acceptance, approve_policy), serialise.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evidence.compliance.findings import PolicyError, approve_acceptance, approve_policy
from evidence.compliance.models import RiskAcceptance
from evidence.core.permissions import EngineersWrite, ReadsEvidence
from ledger.append import Appended


class AcceptanceSerializer(serializers.ModelSerializer):
    proposed_by = serializers.CharField(source="accepted_by")
    proposed_at = serializers.DateTimeField(source="accepted_at")

    class Meta:
        model = RiskAcceptance
        fields = [
            "finding_key",
            "code",
            "proposed_by",
            "proposed_at",
            "reason",
            "until",
            "entry_seq",
            "approved_by",
            "approved_at",
            "approval_seq",
        ]


class AcceptanceFilter(filters.FilterSet):
    pending = filters.BooleanFilter(field_name="approval_seq", lookup_expr="isnull", label="Awaiting approval")

    class Meta:
        model = RiskAcceptance
        fields = ["finding_key", "code"]


class AcceptanceList(generics.ListAPIView):
    permission_classes = [IsAuthenticated, ReadsEvidence]
    serializer_class = AcceptanceSerializer
    filterset_class = AcceptanceFilter

    def get_queryset(self) -> QuerySet[RiskAcceptance]:
        return RiskAcceptance.objects.order_by("-entry_seq")


class ApprovedSerializer(serializers.Serializer):
    proposal_seq = serializers.IntegerField()
    seq = serializers.IntegerField(allow_null=True, help_text="The approval's entry; null until sequenced")
    created = serializers.BooleanField()


def _approve(approve: Callable[[int, str], Appended], request: Request, seq: int) -> Response:
    try:
        appended = approve(seq, request.user.get_username())
    except PolicyError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    body = {"proposal_seq": seq, "seq": appended.seq, "created": appended.created}
    return Response(body, status=status.HTTP_201_CREATED if appended.created else status.HTTP_200_OK)


class AcceptanceApprove(APIView):
    permission_classes = [IsAuthenticated, EngineersWrite]

    @extend_schema(request=None, responses={201: ApprovedSerializer}, summary="Approve a proposed risk acceptance")
    def post(self, request: Request, seq: int) -> Response:
        return _approve(approve_acceptance, request, seq)


class PolicyApprove(APIView):
    permission_classes = [IsAuthenticated, EngineersWrite]

    @extend_schema(request=None, responses={201: ApprovedSerializer}, summary="Approve a proposed policy version")
    def post(self, request: Request, seq: int) -> Response:
        return _approve(approve_policy, request, seq)
