"""The entry envelope: what producers hand to the ledger, and its canonical bytes.

Envelope fields (version 1): v, kind, source, subject, observed_at, occurred_at,
idempotency_key, data. Times are RFC 3339 UTC strings with microseconds, so they sort and
compare as text and carry no float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .canonical import CanonicalError, canonical_bytes

ENVELOPE_VERSION = 1
DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")  # e.g. github.review
MAX_KEY_LENGTH = 512
MAX_SUBJECT_LENGTH = 1024
# Entry (and queue) columns that repeat an envelope field: indexes for queries, never the proof.
ENVELOPE_COLUMNS = ("kind", "source", "subject", "observed_at", "occurred_at", "idempotency_key")
_TIME_COLUMNS = frozenset({"observed_at", "occurred_at"})


class EnvelopeError(ValueError):
    """A record that cannot become an entry; the message says which field and why."""


def format_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise EnvelopeError("times must be timezone-aware")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # Same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ") for years 1000-9999, at a third of the cost.
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """One fact for the ledger. Producers build these; only `ledger.append` stores them.

    idempotency_key comes from the source's own identity of the fact (for example
    `github:review:<id>:<content hash>`), never from a task or run id, so a retry is a no-op.
    """

    kind: str
    source: str
    subject: str
    idempotency_key: str
    data: Mapping[str, Any]
    observed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Sealed:
    """A validated record and its canonical bytes, ready to queue."""

    record: Record
    payload: bytes


def seal(record: Record, max_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES) -> Sealed:
    """Validate a record and return its canonical envelope bytes, or raise EnvelopeError."""
    if not isinstance(record.kind, str) or not KIND_PATTERN.match(record.kind):
        raise EnvelopeError(f"kind: {record.kind!r} is not a dotted lower-case name such as 'github.review'")
    for name, limit in (("source", 200), ("subject", MAX_SUBJECT_LENGTH), ("idempotency_key", MAX_KEY_LENGTH)):
        value = getattr(record, name)
        if not isinstance(value, str) or not value.strip():
            raise EnvelopeError(f"{name}: missing (a non-empty string is required)")
        if len(value) > limit:
            raise EnvelopeError(f"{name}: longer than {limit} characters")
    if not isinstance(record.data, Mapping):
        raise EnvelopeError(f"data: expected an object, got {type(record.data).__name__}")
    if not isinstance(record.observed_at, datetime):
        raise EnvelopeError("observed_at: expected a datetime")
    if record.occurred_at is not None and not isinstance(record.occurred_at, datetime):
        raise EnvelopeError("occurred_at: expected a datetime or None")
    envelope = {
        "v": ENVELOPE_VERSION,
        "kind": record.kind,
        "source": record.source,
        "subject": record.subject,
        "observed_at": format_time(record.observed_at),
        "occurred_at": format_time(record.occurred_at) if record.occurred_at else None,
        "idempotency_key": record.idempotency_key,
        "data": dict(record.data),
    }
    try:
        payload = canonical_bytes(envelope)
    except CanonicalError as exc:
        raise EnvelopeError(str(exc).replace("$.", "", 1)) from None
    if len(payload) > max_bytes:
        raise EnvelopeError(f"payload: {len(payload)} bytes is over the limit of {max_bytes} bytes")
    return Sealed(record, payload)


def open_envelope(payload: bytes) -> dict[str, Any]:
    """The envelope dict from stored bytes."""
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise EnvelopeError("stored payload is not an object")
    return value


def column_text(name: str, value: Any) -> Any:
    """A column's value in the envelope's own form (times as RFC 3339 text; a naive time is UTC)."""
    if name in _TIME_COLUMNS and isinstance(value, datetime):
        return format_time(value if value.tzinfo else value.replace(tzinfo=UTC))
    return value


def differing_columns(columns: Mapping[str, Any], envelope: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, column value, envelope value) for each denormalised column that disagrees with the payload."""
    out = []
    for name in ENVELOPE_COLUMNS:
        stored, hashed = column_text(name, columns[name]), envelope.get(name)
        if stored != hashed:
            out.append((name, stored, hashed))
    return out


def envelope_columns(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The column values the envelope implies (times parsed), e.g. to project from the payload alone."""
    out = {name: envelope.get(name) for name in ENVELOPE_COLUMNS}
    for name in _TIME_COLUMNS:
        text = out[name]
        if text is not None:
            out[name] = parse_time(str(text))
    return out
