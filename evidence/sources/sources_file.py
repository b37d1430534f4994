"""Sources as code: the YAML file named by EVIDENCE_SOURCES_FILE, synced into Source rows.

Each load whose content differs from the last recorded one appends a `source.configuration`
entry carrying the file's SHA-256 and its parsed content, so configuration history is evidence too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from evidence.core.digests import sha256_hex
from evidence.core.jsonvalues import without_floats
from evidence.sources.kinds import KINDS, check_config
from evidence.sources.models import Source
from evidence.sources.schemas import TOP_LEVEL, SourceFields, config_problem
from ledger.append import append_entry
from ledger.envelope import Record


class SourcesFileError(ValueError):
    """The file cannot be used; the message names the file, the entry and the key, in one line."""


def parse_sources(text: str, origin: str) -> list[dict[str, Any]]:
    """The entries of a sources file, each checked against its kind's schema (unknown keys refused)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SourcesFileError(f"{origin}{where}: not valid YAML") from None
    if isinstance(data, dict) and "sources" in data:
        data = data["sources"]
    if not isinstance(data, list):
        raise SourcesFileError(f"{origin}: expected a list of sources")
    seen: set[str] = set()
    out = []
    for i, item in enumerate(data):
        where = f"{origin}: source {i + 1}"
        if not isinstance(item, dict):
            raise SourcesFileError(f"{where}: expected a mapping")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise SourcesFileError(f"{where}: 'name' is required")
        where = f"{origin}: source {name!r}"
        if name in seen:
            raise SourcesFileError(f"{where}: name used twice")
        seen.add(name)
        if item.get("kind") not in KINDS:
            raise SourcesFileError(f"{where}: 'kind' must be one of {', '.join(sorted(KINDS))}")
        schedule = item.get("schedule", 3600)
        if not isinstance(schedule, int) or isinstance(schedule, bool) or schedule < 1:
            raise SourcesFileError(f"{where}: 'schedule' must be a positive number of seconds")
        fields = {k: v for k, v in item.items() if k in TOP_LEVEL}
        problem = config_problem(SourceFields, fields) or check_config(item["kind"], _config(item), TOP_LEVEL)
        if problem:
            raise SourcesFileError(f"{where}: {problem}")
        out.append(item)
    return out


def _config(item: dict[str, Any]) -> dict[str, Any]:
    """What of an entry goes into Source.config: every key but the Source fields."""
    return {k: v for k, v in item.items() if k not in TOP_LEVEL}


def load_sources_file(path: str | Path) -> list[Source]:
    """Sync the file into Source rows (inside one transaction) and record it as evidence."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourcesFileError(f"EVIDENCE_SOURCES_FILE: cannot read {path}: {exc.strerror}") from None
    items = parse_sources(raw.decode("utf-8", errors="replace"), f"sources file {path}")
    digest = sha256_hex(raw)
    with transaction.atomic():
        sources = []
        for item in items:
            source, _ = Source.objects.update_or_create(
                name=item["name"],
                defaults={
                    "kind": item["kind"],
                    "url": item.get("url", ""),
                    "credential_env": item.get("credential_env", ""),
                    "environment": item.get("environment", ""),
                    "config": _config(item),  # as written: the schema checked it, adds no defaults
                    "schedule": item.get("schedule", 3600),
                    "enabled": bool(item.get("enabled", True)),
                    "from_file": True,
                },
            )
            sources.append(source)
    append_entry(
        Record(
            kind="source.configuration",
            source="sources-file",
            subject=f"sources-file:{path.name}",
            idempotency_key=f"sources-file:{digest}",
            data={"sha256": digest, "path": str(path), "sources": without_floats(items, dates=True)},
        )
    )
    return sources
