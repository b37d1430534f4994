from __future__ import annotations

import base64
from typing import Any

from rest_framework import serializers

from .models import Checkpoint, Entry


def b64(value: bytes | memoryview) -> str:
    return base64.b64encode(bytes(value)).decode()


class EntrySerializer(serializers.ModelSerializer[Entry]):
    leaf_hash = serializers.SerializerMethodField()
    chain_hash = serializers.SerializerMethodField()
    envelope = serializers.SerializerMethodField()
    payload = serializers.SerializerMethodField(help_text="The exact stored canonical bytes, base64.")

    class Meta:
        model = Entry
        fields = [
            "seq",
            "kind",
            "source",
            "subject",
            "idempotency_key",
            "observed_at",
            "occurred_at",
            "sequenced_at",
            "leaf_hash",
            "chain_hash",
            "envelope",
            "payload",
        ]

    def get_leaf_hash(self, obj: Entry) -> str:
        return bytes(obj.leaf_hash).hex()

    def get_chain_hash(self, obj: Entry) -> str:
        return bytes(obj.chain_hash).hex()

    def get_envelope(self, obj: Entry) -> dict[str, Any]:
        return obj.envelope

    def get_payload(self, obj: Entry) -> str:
        return b64(obj.payload)


class CheckpointSerializer(serializers.ModelSerializer[Checkpoint]):
    root = serializers.SerializerMethodField(help_text="Merkle root, base64 as in the checkpoint body.")  # type: ignore[assignment]
    root_hex = serializers.SerializerMethodField()

    class Meta:
        model = Checkpoint
        fields = ["size", "root", "root_hex", "key_id", "signed_at", "note"]

    def get_root(self, obj: Checkpoint) -> str:
        return b64(obj.root)

    def get_root_hex(self, obj: Checkpoint) -> str:
        return bytes(obj.root).hex()
