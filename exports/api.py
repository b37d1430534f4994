"""API for audit packs: request one, follow its status, download it. Views validate, call, serialise."""

from __future__ import annotations

import base64
from pathlib import Path

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .jobs import request_pack
from .models import AuditPack
from .pack.providers import PROVIDERS
from .pack.scope import Scope, ScopeError
from .permissions import CanUsePacks
from .tasks import build_audit_pack


class PackSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()
    entry_seq = serializers.SerializerMethodField(help_text="seq of the pack's export.audit_pack ledger entry")

    class Meta:
        model = AuditPack
        fields = [
            "id",
            "scope",
            "status",
            "requested_by_name",
            "created_at",
            "started_at",
            "finished_at",
            "sha256",
            "size",
            "pages",
            "error",
            "entry_seq",
            "download",
        ]
        read_only_fields = fields

    def get_entry_seq(self, pack: AuditPack) -> int | None:
        return pack.ledger_seq()

    def get_download(self, pack: AuditPack) -> str | None:
        if pack.status != AuditPack.Status.DONE:
            return None
        return reverse("exports:pack-download", args=[pack.pk])


class PackRequestSerializer(serializers.Serializer):
    scope = serializers.JSONField(
        help_text="e.g. {'type': 'entries', 'kinds': ['github.review'], 'since': '2026-01-01'}"
    )

    def validate_scope(self, value) -> Scope:
        try:
            scope = Scope.from_json(value)
        except ScopeError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if scope.type not in PROVIDERS:
            raise serializers.ValidationError(
                f"type: no content provider for {scope.type!r} scopes is installed yet "
                f"(available: {', '.join(sorted(PROVIDERS))})"
            )
        return scope


class PackListCreate(generics.ListAPIView):
    """GET: packs, newest first. POST {"scope": {...}}: queue a pack (202, then follow its status)."""

    permission_classes = [IsAuthenticated, CanUsePacks]
    serializer_class = PackSerializer
    queryset = AuditPack.objects.all()

    @extend_schema(request=PackRequestSerializer, responses={202: PackSerializer})
    def post(self, request):
        incoming = PackRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        pack = request_pack(incoming.validated_data["scope"], request.user, enqueue=build_audit_pack.delay)
        pack.refresh_from_db()  # without a broker the build has already run
        url = reverse("exports:pack-detail", args=[pack.pk])
        return Response(PackSerializer(pack).data, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class PackDetail(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated, CanUsePacks]
    serializer_class = PackSerializer
    queryset = AuditPack.objects.all()


class PackDownload(APIView):
    permission_classes = [IsAuthenticated, CanUsePacks]

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            409: OpenApiResponse(description="the pack is not built yet, or failed"),
            410: OpenApiResponse(description="the pack's file is no longer stored"),
        }
    )
    def get(self, request, pk: int):
        pack = get_object_or_404(AuditPack, pk=pk)
        if pack.status != AuditPack.Status.DONE:
            return Response({"detail": f"pack {pack.pk} is {pack.status}, not ready"}, status=status.HTTP_409_CONFLICT)
        path = Path(pack.file_path)
        if not path.is_file():
            return Response({"detail": f"pack {pack.pk}: its file is no longer stored"}, status=status.HTTP_410_GONE)
        response = FileResponse(path.open("rb"), content_type="application/pdf", as_attachment=True, filename=path.name)
        response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(pack.sha256)).decode()}:"  # RFC 9530
        return response
