"""Trend buckets: calendar weeks (Monday 00:00 UTC) or months, clipped to the period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

BUCKETS = ("week", "month")


def bucket_start(moment: datetime, bucket: str) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_start(start: datetime, bucket: str) -> datetime:
    if bucket == "week":
        return start + timedelta(days=7)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def buckets(since: datetime, until: datetime, bucket: str) -> list[tuple[datetime, datetime]]:
    """[(from, to)) for each bucket overlapping [since, until), clipped to it."""
    out = []
    start = bucket_start(since, bucket)
    while start < until:
        end = next_start(start, bucket)
        out.append((max(start, since), min(end, until)))
        start = end
    return out
