from datetime import UTC, datetime, timedelta

from ledger.envelope import Record

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(i: int, kind: str = "test.fact", subject: str | None = None, **data) -> Record:
    return Record(
        kind=kind,
        source="test-source",
        subject=subject or f"repo/{i % 3}",
        idempotency_key=f"test:{kind}:{i}",
        data={"i": i, **data},
        observed_at=T0 + timedelta(minutes=i),
        occurred_at=T0 + timedelta(minutes=i) - timedelta(seconds=30),
    )


def records(n: int, start: int = 0, **kw) -> list[Record]:
    return [record(i, **kw) for i in range(start, start + n)]
