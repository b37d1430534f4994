"""Idempotency keys are looked up whole, never by prefix: one unique index each on the queue and the
log, and no `varchar_pattern_ops` index beside it costing every append a B-tree insert."""

import pytest
from django.db import connection

from ..conftest import ON_POSTGRES

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="the pattern index is PostgreSQL's; SQLite never makes one"),
]


def _key_indexes(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "AND indexdef LIKE %s",
            [table, "%(idempotency_key%"],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("table", ["ledger_entry", "ledger_queue"])
def test_each_key_has_its_unique_index_and_no_prefix_index(table):
    indexes = _key_indexes(table)
    assert len(indexes) == 1, indexes
    assert indexes[0].startswith("CREATE UNIQUE INDEX") and "varchar_pattern_ops" not in indexes[0]
