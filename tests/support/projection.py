"""The one way tests bring the read models along with the ledger: `projected`, as the service does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.db import transaction


@contextmanager
def projecting() -> Iterator[None]:
    """Inside, the sequencer's after-commit hook (the read models' on_sequenced, which runs
    project_pending) runs as each batch is sequenced, as it runs after the commit in the service.
    Tests run inside a transaction that never commits, so without this nothing is projected."""
    inline = SimpleNamespace(atomic=transaction.atomic, on_commit=lambda func, **kwargs: func())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ledger.sequencer.transaction", inline)
        yield


@pytest.fixture
def projected() -> Iterator[None]:
    """Read models follow the ledger as in the service (see `projecting`). Tests of the projector
    itself (one that lags behind harvests, a rebuild) call evidence.readmodels.projectors instead."""
    with projecting():
        yield
