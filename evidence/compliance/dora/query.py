"""The parameters of a DORA question, as the API and the command take them, checked once.

A bad value raises BadQuery with the parameter named (the API answers 400 with it, the command
exits 2 with one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from evidence.compliance.dora.buckets import BUCKETS
from evidence.core.times import parse_time

DEFAULT_SPAN = timedelta(days=90)
LONGEST_SPAN = timedelta(days=3 * 366)  # a few years of trend; longer asks are refused, not slow
MAX_NAME = 200
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


class BadQuery(ValueError):
    pass


@dataclass(frozen=True)
class DoraQuery:
    environment: str
    application: str | None
    since: datetime
    until: datetime
    bucket: str


def _name(value: str | None, field: str, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise BadQuery(f"'{field}' is required")
        return None
    if len(text) > MAX_NAME or not text.isprintable():
        raise BadQuery(f"'{field}' must be printable text of at most {MAX_NAME} characters")
    return text


def _time(value: str | None, field: str) -> datetime | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        moment = parse_time(text, to_utc=True)
    except (ValueError, OverflowError):
        raise BadQuery(f"'{field}' must be an ISO 8601 time, e.g. 2026-03-01T00:00Z") from None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise BadQuery(f"'{field}' must be between 1970 and 9000")
    return moment


def parse_query(
    environment: str | None,
    application: str | None = None,
    since: str | None = None,
    until: str | None = None,
    bucket: str | None = None,
    now: datetime | None = None,
) -> DoraQuery:
    env = _name(environment, "environment", required=True)
    assert env is not None
    app = _name(application, "application", required=False)
    end = _time(until, "until") or (now or datetime.now(UTC))
    start = _time(since, "since") or end - DEFAULT_SPAN
    if start >= end:
        raise BadQuery("'since' must be before 'until'")
    if end - start > LONGEST_SPAN:
        raise BadQuery(f"the period is longer than {LONGEST_SPAN.days} days; ask for a shorter one")
    kind = (bucket or "week").strip()
    if kind not in BUCKETS:
        raise BadQuery("'bucket' must be week or month")
    return DoraQuery(env, app, start, end, kind)
