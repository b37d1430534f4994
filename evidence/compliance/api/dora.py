"""DORA metrics and the release gate over the API.

GET /api/v1/dora/?environment=&application=&since=&until=&bucket=week|month
    the five figures (value, unit, band and its edition, samples, trend) and a page of samples
    (`limit`/`offset`), each citing its entry seqs; readers of evidence (auditors, engineers)
GET /api/v1/gate/?environment=&digest=|revision=
    allow or deny now, with every reason; each decision is a ledger entry, so only engineers (a CI
    token) ask: auditors stay read-only

Views validate, call one function (dora_figures, decide_release), serialise.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evidence.compliance.dora import dora_figures
from evidence.compliance.dora.query import BadQuery, parse_query
from evidence.compliance.gate import GateError, decide_release
from evidence.core.permissions import EngineersOnly, ReadsEvidence


class AsksGate(EngineersOnly):
    """Engineers and superusers: asking writes a decision entry."""

    message = "only engineers may ask the release gate (each answer is recorded)"


class SamplePage(LimitOffsetPagination):
    """Samples are a list in memory: any offset is a slice (past the end: an empty page)."""

    default_limit = 100
    max_limit = 1000


class DoraView(APIView):
    """The five DORA metrics of an environment (and application) over a period."""

    permission_classes = [IsAuthenticated, ReadsEvidence]

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", str, required=True),
            OpenApiParameter("application", str),
            OpenApiParameter("since", str, description="ISO 8601; default: 90 days before until"),
            OpenApiParameter("until", str, description="ISO 8601; default: now"),
            OpenApiParameter("bucket", str, enum=["week", "month"]),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=dict,
        summary="DORA metrics citing their entries",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            q = parse_query(
                params.get("environment"),
                params.get("application"),
                params.get("since"),
                params.get("until"),
                params.get("bucket"),
            )
        except BadQuery as exc:
            return Response({"detail": str(exc)}, status=400)
        report = dora_figures(q.environment, q.since, q.until, q.application, q.bucket)
        body = report.as_json(with_samples=False)
        pager = SamplePage()
        page = pager.paginate_queryset(report.samples, request, view=self) or []
        body["samples"] = {
            "count": len(report.samples),
            "next": pager.get_next_link(),
            "previous": pager.get_previous_link(),
            "results": [s.as_json() for s in page],
        }
        return Response(body)


class GateView(APIView):
    """Allow or deny a digest (or revision) into an environment now; the decision is recorded."""

    permission_classes = [IsAuthenticated, AsksGate]

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", str, required=True),
            OpenApiParameter("digest", str, description="sha256:<64 hex>"),
            OpenApiParameter("revision", str, description="A full commit SHA"),
        ],
        responses=dict,
        summary="Release gate",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            decision = decide_release(
                (params.get("environment") or "").strip(),
                digest=(params.get("digest") or "").strip(),
                revision=(params.get("revision") or "").strip(),
                asked_by=f"api:{request.user.get_username()}",
            )
        except GateError as exc:
            return Response({"detail": str(exc)}, status=400)
        return Response(decision.as_json())
