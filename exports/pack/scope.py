"""What a pack is about: a scope, parsed from JSON (API, task) or command-line options.

Types: `deployment` (one deployment id), `environment` and `repository` (over a period), and
`entries` (ledger seqs, or a kind/subject filter over a period) which needs no read model.
Periods are half-open [since, until) in UTC and apply to when a fact occurred, else when it
was observed (see exports.figures.entry_day).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evidence.core.times import parse_time

SCOPE_TYPES = ("entries", "deployment", "environment", "repository")
MAX_SAMPLE = 10_000


class ScopeError(ValueError):
    """A scope that cannot be built; the message names the field and why."""


def _time(name: str, value: Any) -> datetime | None:
    try:
        return parse_time(value, to_utc=True)
    except ValueError:
        raise ScopeError(f"{name}: {value!r} is not an ISO 8601 date or time") from None


def _text(name: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ScopeError(f"{name}: expected a string")
    return value


@dataclass(frozen=True)
class Scope:
    type: str
    deployment: str | None = None
    environment: str | None = None
    repository: str | None = None
    seqs: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sample: int = 0
    seed: str = field(default="")

    @classmethod
    def from_json(cls, value: Any) -> Scope:
        if not isinstance(value, dict):
            raise ScopeError("scope: expected an object such as {'type': 'entries', 'kinds': ['github.review']}")
        unknown = sorted(set(value) - {f for f in cls.__dataclass_fields__})
        if unknown:
            raise ScopeError(f"scope: unknown field(s) {', '.join(unknown)}")
        kind = value.get("type")
        if kind not in SCOPE_TYPES:
            raise ScopeError(f"type: {kind!r} is not one of {', '.join(SCOPE_TYPES)}")
        seqs = value.get("seqs") or []
        if not isinstance(seqs, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seqs):
            raise ScopeError("seqs: expected a list of whole numbers")
        if any(s < 0 for s in seqs):
            raise ScopeError("seqs: ledger seqs start at 0")
        kinds = value.get("kinds") or []
        if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
            raise ScopeError("kinds: expected a list of entry kinds such as 'github.review'")
        sample = value.get("sample") or 0
        if not isinstance(sample, int) or isinstance(sample, bool) or not 0 <= sample <= MAX_SAMPLE:
            raise ScopeError(f"sample: expected a whole number from 0 to {MAX_SAMPLE}")
        scope = cls(
            type=kind,
            deployment=_text("deployment", value.get("deployment")),
            environment=_text("environment", value.get("environment")),
            repository=_text("repository", value.get("repository")),
            seqs=tuple(sorted(set(seqs))),
            kinds=tuple(sorted(set(kinds))),
            subject=_text("subject", value.get("subject")),
            since=_time("since", value.get("since")),
            until=_time("until", value.get("until")),
            sample=sample,
            # The seed is recorded in the pack, so a sample can be redrawn by anyone.
            seed=_text("seed", value.get("seed")) or (secrets.token_hex(8) if sample else ""),
        )
        scope.check()
        return scope

    def check(self) -> None:
        if self.since and self.until and self.since >= self.until:
            raise ScopeError("until: must be later than since")
        if self.type == "deployment" and not self.deployment:
            raise ScopeError("deployment: required for a deployment scope")
        if self.type == "environment" and not (self.environment and self.since and self.until):
            raise ScopeError("an environment scope needs environment, since and until")
        if self.type == "repository" and not (self.repository and self.since and self.until):
            raise ScopeError("a repository scope needs repository, since and until")
        if self.type == "entries" and not (self.seqs or self.kinds or self.subject or self.since or self.until):
            raise ScopeError("an entries scope needs seqs, or a filter (kinds, subject, since, until)")
        if self.type == "entries" and self.seqs and (self.kinds or self.subject or self.since or self.until):
            raise ScopeError("an entries scope takes either seqs or a filter, not both")

    def to_json(self) -> dict[str, Any]:
        """Only the fields set, times as RFC 3339 UTC (the same text as ledger envelopes)."""
        out: dict[str, Any] = {"type": self.type}
        for name in ("deployment", "environment", "repository", "subject"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.seqs:
            out["seqs"] = list(self.seqs)
        if self.kinds:
            out["kinds"] = list(self.kinds)
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment:
                out[name] = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if self.sample:
            out["sample"] = self.sample
            out["seed"] = self.seed
        return out

    def period(self) -> str:
        if not (self.since or self.until):
            return "all time"
        since = self.since.strftime("%Y-%m-%d %H:%M UTC") if self.since else "the start of the ledger"
        until = self.until.strftime("%Y-%m-%d %H:%M UTC") if self.until else "now"
        return f"from {since} until {until} (exclusive)"
