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
from evidence.core.times import parse_time
from evidence.sources.forges.base import BranchHistory, Commit, Protection, text

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
    history: dict[str, str] = field(default_factory=dict)  # branch -> the head its line was read to

    def as_dict(self, forge: str, repository: str) -> dict[str, Any]:
        return {
            "forge": forge,
            "repository": repository,
            "changes_listed": self.pulls_listed,
            "changes_harvested": self.pulls_harvested,
            "changes_unchanged": self.pulls_unchanged,
            "protection": self.protection,
            "unknown": sorted(set(self.unknown)),
            **({"history": dict(sorted(self.history.items()))} if self.history else {}),
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


# --- commits and the first-parent line of a branch ------------------------------------------------

HISTORY_LIMIT = 1000  # commits one harvest walks back along a branch (a setting per source)


def commit_payload(
    sha: str,
    parents: list[str],
    author: tuple[str | None, str | None],
    committer: tuple[str | None, str | None],
    authored_at: str | None,
    committed_at: str | None,
) -> dict[str, Any]:
    """One commit as both forges' entries hold it: (account or name, e-mail) of author and committer."""
    return {
        "sha": sha,
        "parents": list(parents),
        "author": author[0],
        "author_email": author[1],
        "committer": committer[0],
        "committer_email": committer[1],
        "authored_at": authored_at,
        "committed_at": committed_at,
    }


def change_key_content(data: dict[str, Any]) -> dict[str, Any]:
    """What a change's idempotency key is hashed over: its payload without `commit_details`, as the
    key was before commit authors were recorded, so a rerun over an older ledger adds no duplicate
    (tests/core/test_idempotency_keys.py). The details are a fuller reading of the same commits."""
    return {k: v for k, v in data.items() if k != "commit_details"}


def read_commit(data: dict[str, Any]) -> Commit:
    return Commit(
        sha=text(data.get("sha")).lower(),
        parents=tuple(text(p).lower() for p in data.get("parents") or []),
        author=text(data.get("author")),
        author_email=text(data.get("author_email")),
        committer=text(data.get("committer")),
        committer_email=text(data.get("committer_email")),
        authored_at=parse_time(data.get("authored_at"), to_utc=True),
        committed_at=parse_time(data.get("committed_at"), to_utc=True),
    )


def history_payload(
    repository: str, branch: str, since: str | None, walked: list[dict[str, Any]], complete: bool
) -> dict[str, Any]:
    """A `<forge>.branch_history` payload: the first-parent commits walked, newest first in `walked`,
    recorded oldest first."""
    return {
        "repository": repository,
        "branch": branch,
        "head": walked[0]["sha"],
        "since": since or "",
        "commits": walked[::-1],
        "complete": complete,
    }


def walk_first_parents(
    by_sha: dict[str, dict[str, Any]], head: str, since: str | None, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """From `head` along first parents until `since` (excluded), the root, or a commit not read:
    (the commits newest first, whether the walk reached `since` or the root)."""
    walked: list[dict[str, Any]] = []
    sha: str | None = head
    while sha and sha != since and sha in by_sha and len(walked) < limit:
        walked.append(by_sha[sha])
        parents = by_sha[sha]["parents"]
        sha = parents[0] if parents else None
    reached = sha == since if since else sha is None
    return walked, reached


def read_history(data: dict[str, Any]) -> BranchHistory:
    return BranchHistory(
        repository=data["repository"],
        branch=data["branch"],
        head=text(data.get("head")).lower(),
        since=text(data.get("since")).lower(),
        commits=tuple(read_commit(c) for c in data.get("commits") or []),
        complete=bool(data.get("complete")),
    )
