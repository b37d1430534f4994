"""Each forge target's latest harvest run is kept as one row (its highest seq, its latest observed
time), derived from the harvest-run entries alone: custody reads it instead of every run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evidence.readmodels.models import ForgeHarvest
from evidence.readmodels.projectors import project_pending, rebuild_all
from ledger.append import append_entries
from ledger.envelope import Record

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def run(subject: str, n: int, at: datetime) -> Record:
    data = {"source_kind": subject.split(":")[0], "target": subject.split(":", 1)[1], "status": "succeeded"}
    return Record("harvest.run", "acme-forge", subject, f"harvest-run:{subject}:{n}", data, at, at)


def rows() -> list[tuple[str, int, datetime]]:
    return list(ForgeHarvest.objects.values_list("subject", "last_seq", "last_observed_at"))


def test_it_keeps_the_latest_run_of_each_forge_target(db):
    seqs = [
        a.seq
        for a in append_entries(
            [
                run("github:acme/payments", 1, T0),
                run("github:acme/payments", 2, T0 + timedelta(hours=2)),
                run("github:acme/payments", 3, T0 + timedelta(hours=1)),  # appended last, observed earlier
                run("gitlab:acme/deploy", 4, T0),
                run("argocd:payments", 5, T0 + timedelta(days=1)),  # not a forge target
            ]
        )
    ]
    project_pending()
    assert rows() == [
        ("github:acme/payments", seqs[2], T0 + timedelta(hours=2)),
        ("gitlab:acme/deploy", seqs[3], T0),
    ]


def test_it_gives_the_same_rows_on_a_rebuild(db):
    append_entries([run("github:acme/payments", n, T0 + timedelta(hours=n)) for n in range(3)])
    project_pending()
    before = rows()
    rebuild_all()
    assert rows() == before and len(before) == 1
