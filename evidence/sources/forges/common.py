"""What the GitHub and GitLab packages share: protection history, picking fields, coverage.

Protection history: a snapshot record is returned only when a branch's settings differ from the
last ones recorded for it (kept in the cursor, which moves only after the append). Its key chains
the previous hash to the new one, so a setting switched off and back on gives two entries, and a
retry of the same harvest gives none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from evidence.core.digests import canonical_hash32
from evidence.core.jsonvalues import without_floats
from evidence.sources.forges.base import Protection, text

UNKNOWN = "unknown"  # a setting the credential could not read: never recorded as off


def iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def login(user: Any) -> str | None:
    """The login/username of an upstream user object (dict), or None when the forge sent none."""
    if not isinstance(user, dict):
        return None
    return user.get("login") or user.get("username")


def pick(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: without_floats(data.get(name)) for name in names}


@dataclass
class SnapshotCheck:
    """Outcome of comparing one branch's settings with the last recorded ones."""

    hash: str
    previous: str | None
    changed: bool


def check_snapshot(cursor_snapshots: dict[str, Any], key: str, settings: Any) -> SnapshotCheck:
    new = canonical_hash32(settings)
    previous = (cursor_snapshots.get(key) or {}).get("hash")
    return SnapshotCheck(new, previous, new != previous)


def snapshot_key(prefix: str, check: SnapshotCheck) -> str:
    return f"{prefix}:{check.previous or 'first'}:{check.hash}"


@dataclass
class Observed:
    """What a harvest asked and saw, for the harvest-run entry (coverage, gaps, unchanged settings)."""

    pulls_listed: int = 0
    pulls_harvested: list[int] = field(default_factory=list)
    pulls_unchanged: bool = False
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    def as_dict(self, forge: str, repository: str) -> dict[str, Any]:
        return {
            "forge": forge,
            "repository": repository,
            "changes_listed": self.pulls_listed,
            "changes_harvested": self.pulls_harvested,
            "changes_unchanged": self.pulls_unchanged,
            "protection": self.protection,
            "unknown": sorted(set(self.unknown)),
        }


def most(values: list[Any]) -> Any:
    """Strictest of several sources of one setting: unknown if any source is unknown."""
    if any(v == UNKNOWN for v in values):
        return UNKNOWN
    known = [v for v in values if v is not None]
    if not known:
        return None
    if all(isinstance(v, bool) for v in known):
        return any(known)
    return max(known)


def read_snapshot(data: dict[str, Any]) -> Protection:
    """A protection snapshot entry, as both forges record one: effective settings and the parts."""
    detail = {k: v for k, v in data.items() if k not in ("effective", "hash", "previous_hash", "repository", "branch")}
    return Protection(
        repository=data["repository"],
        branch=data["branch"],
        settings=data.get("effective") or {},
        detail=detail,
        hash=data["hash"],
        previous_hash=text(data.get("previous_hash")),
    )
