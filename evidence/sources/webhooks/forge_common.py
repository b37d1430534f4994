"""What the GitHub and GitLab receivers share: finding the source, its secret, answering, re-harvesting."""

from __future__ import annotations

import os
from pathlib import Path

from django.db import transaction
from django.http import JsonResponse

from evidence.sources.kinds import FORGES
from evidence.sources.models import Source
from ledger.append import append_entry
from ledger.envelope import EnvelopeError, Record


def refuse(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def source_for(kind: str, repository: str | None) -> Source | None:
    """The enabled source of this kind that watches the repository/project (listed, or its org/group)."""
    if not repository:
        return None
    forge = FORGES[kind]
    for source in Source.objects.filter(kind=kind, enabled=True):
        if forge.watches(source.config, repository):
            return source
    return None


def secret_for(source: Source | None, default: str) -> str:
    """The source's own webhook secret (variable named by `webhook_secret_env`, or VAR_FILE), else the default."""
    name = source.setting("webhook_secret_env") if source else None
    if not name:
        return default
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, "")


def store_delivery(record: Record, source: Source | None, repository: str | None) -> JsonResponse:
    """Append the verified delivery; a new one triggers a re-harvest of its repository after commit."""
    try:
        appended = append_entry(record)
    except EnvelopeError as exc:
        return refuse(413 if "over the limit" in str(exc) else 400, f"delivery not recorded: {exc}")
    if not appended.created:
        return JsonResponse({"status": "duplicate", "seq": appended.seq}, status=200)
    if source is not None and repository:
        from evidence.sources.tasks import harvest_target

        source_id = source.pk
        transaction.on_commit(lambda: harvest_target.delay(source_id, repository))
    return JsonResponse({"status": "recorded", "seq": appended.seq, "reharvest": bool(source)}, status=202)
