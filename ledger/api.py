"""Read-only ledger API: entries, proofs, checkpoints, the public key. Nothing here writes."""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .bounds import LARGEST, IdFilter, UtcIsoDateTimeFilter
from .keys import SigningKeyError, load_verifiers
from .models import Checkpoint, Entry
from .note import join_notes
from .proofs import ProofUnavailable, consistency_proof, inclusion_proof
from .serializers import CheckpointSerializer, EntrySerializer


class EntryFilter(django_filters.FilterSet):  # type: ignore[misc]
    kind = django_filters.CharFilter()
    kind_prefix = django_filters.CharFilter(field_name="kind", lookup_expr="startswith")
    subject = django_filters.CharFilter()
    subject_prefix = django_filters.CharFilter(field_name="subject", lookup_expr="startswith")
    source = django_filters.CharFilter()
    observed_after = UtcIsoDateTimeFilter(field_name="observed_at", lookup_expr="gte")
    observed_before = UtcIsoDateTimeFilter(field_name="observed_at", lookup_expr="lt")
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    seq_from = IdFilter(field_name="seq", lookup_expr="gte")

    class Meta:
        model = Entry
        fields: list[str] = []


class EntryList(generics.ListAPIView[Entry]):
    """Ledger entries in seq order, filtered by kind, subject, source and time."""

    queryset = Entry.objects.order_by("seq")
    serializer_class = EntrySerializer
    filterset_class = EntryFilter


class EntryDetail(generics.RetrieveAPIView[Entry]):
    queryset = Entry.objects.all()
    serializer_class = EntrySerializer
    lookup_field = "seq"


def _int_param(request: Request, name: str, required: bool = True) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise ValidationError({name: "This parameter is required."})
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: f"expected a whole number, got {raw!r}"}) from None
    if value < 0:
        raise ValidationError({name: "must not be negative"})
    if value > LARGEST:
        raise ValidationError({name: f"must be at most {LARGEST}"})
    return value


class EntryProof(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("size", OpenApiTypes.INT, description="tree size (default: latest checkpoint)")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, seq: int) -> Response:
        """RFC 9162 inclusion proof of entry seq in the tree of the given size."""
        size = _int_param(request, "size", required=False)
        try:
            proof = inclusion_proof(seq, size)
        except ProofUnavailable as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(proof.as_json())


class CheckpointList(generics.ListAPIView[Checkpoint]):
    """Signed checkpoints, newest first. `?format=note` on a single checkpoint gives the note text."""

    queryset = Checkpoint.objects.order_by("-size")
    serializer_class = CheckpointSerializer


def _note_or_json(request: Request, checkpoint: Checkpoint) -> Response | HttpResponse:
    if request.query_params.get("as") == "note":
        return HttpResponse(checkpoint.note, content_type="text/plain; charset=utf-8")
    return Response(CheckpointSerializer(checkpoint).data)


class CheckpointLatest(APIView):
    @extend_schema(responses=CheckpointSerializer)
    def get(self, request: Request) -> Response | HttpResponse:
        """The latest signed checkpoint (`?as=note` for the signed note text)."""
        checkpoint = Checkpoint.objects.order_by("-size").first()
        if checkpoint is None:
            raise NotFound("no checkpoint has been signed yet")
        return _note_or_json(request, checkpoint)


class CheckpointBySize(APIView):
    @extend_schema(responses=CheckpointSerializer)
    def get(self, request: Request, size: int) -> Response | HttpResponse:
        """The checkpoint for one tree size (`?as=note` for the signed note text)."""
        checkpoint = Checkpoint.objects.filter(size=size).first()
        if checkpoint is None:
            raise NotFound(f"no checkpoint for tree size {size}")
        return _note_or_json(request, checkpoint)


class Consistency(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.INT, required=True),
            OpenApiParameter("to", OpenApiTypes.INT, required=True),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        """RFC 9162 consistency proof between two tree sizes."""
        old, new = _int_param(request, "from"), _int_param(request, "to")
        assert old is not None and new is not None
        try:
            proof = consistency_proof(old, new)
        except ProofUnavailable as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(proof.as_json())


class CheckpointNotes(APIView):
    LIMIT = 1000

    @extend_schema(
        parameters=[
            OpenApiParameter("after", OpenApiTypes.INT, description="only sizes above this (default: all)"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"at most this many (default and cap {LIMIT})"),
        ],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        """Signed checkpoint notes in size order, one after another with a blank line between (text/plain).

        What `manage.py monitor` and `verify_ledger --checkpoints URL` read; page with `after`.
        """
        after = _int_param(request, "after", required=False)
        limit = min(_int_param(request, "limit", required=False) or self.LIMIT, self.LIMIT)
        query = Checkpoint.objects.order_by("size")
        if after is not None:
            query = query.filter(size__gt=after)
        notes = list(query.values_list("note", flat=True)[:limit])
        return HttpResponse(join_notes(notes), content_type="text/plain; charset=utf-8")


class PublicKey(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        """The ledger's verifier keys (C2SP note format), current first: a rotated-out key stays listed,
        so checkpoints it signed still verify offline."""
        try:
            verifiers = load_verifiers()
        except SigningKeyError:
            raise NotFound("the ledger has no signing key yet") from None
        keys = [
            {"verifier_key": v.encode(), "fingerprint": v.fingerprint(), "current": i == 0}
            for i, v in enumerate(verifiers)
        ]
        return Response({"origin": settings.LEDGER_ORIGIN, **keys[0], "keys": keys})
