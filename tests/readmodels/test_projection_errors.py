"""A projector that fails on one entry records the failure and does not stall the read models."""

import pytest

from evidence.readmodels import projectors as projections
from evidence.readmodels.models import ProjectionCursor, ProjectionError
from ledger.append import append_entries
from ledger.envelope import Record

pytestmark = pytest.mark.django_db

SEEN: list[int] = []


@pytest.fixture
def fragile_projector(monkeypatch):
    def project(entry):
        if entry.data.get("bad"):
            raise ValueError("no repository in this entry")
        SEEN.append(entry.seq)

    SEEN.clear()
    monkeypatch.setitem(projections._PROJECTORS, "test.fragile", [project])
    return project


def fact(i, **data):
    return Record("test.fragile", "test", f"subject/{i}", f"test:fragile:{i}", {"i": i, **data})


def test_it_records_the_failing_entry_and_projects_the_ones_after_it(fragile_projector):
    append_entries([fact(0), fact(1, bad=True), fact(2)])
    projections.project_pending()  # what the sequencer's on-commit hook runs after the commit
    assert SEEN == [0, 2]
    error = ProjectionError.objects.get()
    assert (error.seq, error.kind) == (1, "test.fragile") and "no repository" in error.error
    assert ProjectionCursor.objects.get().last_seq == 2


def test_it_clears_recorded_failures_when_rebuilding(fragile_projector):
    append_entries([fact(0, bad=True)])
    projections.project_pending()
    assert ProjectionError.objects.count() == 1
    projections.rebuild_all()
    assert ProjectionError.objects.count() == 1  # the same entry still fails, recorded once, not twice
