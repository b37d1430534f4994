"""Content hashes that go into idempotency keys, each recipe under its own name. Django-free.

A key must stay byte-identical for as long as ledgers recorded with it exist (a rerun over an
existing ledger must append nothing new), so these are not one recipe: each one is kept exactly
as the facts using it were first recorded. Never change a function here; add a new one. The
keys they make are frozen by tests/core/test_idempotency_keys.py.

All are SHA-256, lower-case hex, cut to the length in the name (64: the whole digest).

| name                 | bytes hashed                                           | used for                      |
|----------------------|--------------------------------------------------------|-------------------------------|
| sha256_hex           | the bytes (str: UTF-8)                                 | webhook bodies, the sources   |
|                      |                                                        | file, audit pack PDFs         |
| short_hash16         | the bytes (str: UTF-8)                                 | (shorter keys of text facts)  |
| short_hash32         | the bytes (str: UTF-8)                                 | finding keys                  |
| canonical_hash16     | RFC 8785 of the value                                  | OCI artifacts, signatures,    |
|                      |                                                        | provenance                    |
| canonical_hash32     | RFC 8785 of {"v": without_floats(value)}               | GitHub/GitLab facts and       |
|                      |                                                        | protection snapshots          |
| compact_json_hash16  | json.dumps(sort_keys=True, separators=(",", ":"))      | Argo CD operations, snapshots |
| sorted_json_hash16   | json.dumps(sort_keys=True)                             | Flux object status            |
| json_hash16          | json.dumps() as given (insertion order)                | Kubernetes pods snapshots     |
| sorted_json_hash64   | json.dumps(sort_keys=True)                             | policy versions, acceptances  |

json.dumps keeps its defaults unless stated: ensure_ascii=True, ", " and ": " separators.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from evidence.core.jsonvalues import without_floats
from ledger.canonical import canonical_bytes


def sha256_hex(data: str | bytes) -> str:
    """SHA-256 of the bytes (a str as UTF-8), all 64 hex characters."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def short_hash16(data: str | bytes) -> str:
    """The first 16 hex characters of sha256_hex(data)."""
    return sha256_hex(data)[:16]


def short_hash32(data: str | bytes) -> str:
    """The first 32 hex characters of sha256_hex(data)."""
    return sha256_hex(data)[:32]


def canonical_hash16(value: Any) -> str:
    """SHA-256 of the RFC 8785 bytes of the value itself (no float removal: it must have none), 16 hex."""
    return sha256_hex(canonical_bytes(value))[:16]


def canonical_hash32(value: Any) -> str:
    """SHA-256 of the RFC 8785 bytes of {"v": without_floats(value)}, 32 hex.

    The wrapping lets any JSON value (a list, a string, 'unknown') be hashed as an object.
    """
    return sha256_hex(canonical_bytes({"v": without_floats(value)}))[:32]


def compact_json_hash16(value: Any) -> str:
    """SHA-256 of json.dumps(value, sort_keys=True, separators=(",", ":")), 16 hex."""
    return sha256_hex(json.dumps(value, sort_keys=True, separators=(",", ":")))[:16]


def sorted_json_hash16(value: Any) -> str:
    """SHA-256 of json.dumps(value, sort_keys=True) (default separators), 16 hex."""
    return sha256_hex(json.dumps(value, sort_keys=True))[:16]


def json_hash16(value: Any) -> str:
    """SHA-256 of json.dumps(value) (insertion order, default separators), 16 hex."""
    return sha256_hex(json.dumps(value))[:16]


def sorted_json_hash64(value: Any) -> str:
    """SHA-256 of json.dumps(value, sort_keys=True) (default separators), all 64 hex."""
    return sha256_hex(json.dumps(value, sort_keys=True))
