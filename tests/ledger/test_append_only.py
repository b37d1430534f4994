"""The database itself refuses to rewrite the ledger (SQLite and PostgreSQL)."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint

from ..conftest import ON_POSTGRES
from .helpers import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(ledger_key):
    append_entries(records(4))
    sign_checkpoint()


def refused(sql, params=()):
    with pytest.raises(DatabaseError, match=r"append-only|may only move the head forward|not allowed") as caught:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    return str(caught.value)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_entry SET subject = 'rewritten' WHERE seq = 1",
        "UPDATE ledger_entry SET payload = payload WHERE seq = 0",
        "DELETE FROM ledger_entry WHERE seq = 3",
        "DELETE FROM ledger_entry",
        "UPDATE ledger_treenode SET hash = hash",
        "DELETE FROM ledger_treenode",
        "UPDATE ledger_checkpoint SET note = 'forged'",
        "DELETE FROM ledger_checkpoint",
        "DELETE FROM ledger_head",
    ],
)
def test_it_refuses_to_update_or_delete_ledger_rows(ledger, sql):
    refused(sql)


def test_it_refuses_to_move_the_head_backwards(ledger):
    refused("UPDATE ledger_head SET size = 2")
    refused("UPDATE ledger_head SET root = %s", [b"\x00" * 32])


@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE exists only on PostgreSQL")
@pytest.mark.parametrize("table", ["ledger_entry", "ledger_treenode", "ledger_checkpoint", "ledger_head"])
def test_it_refuses_truncate_on_postgresql(ledger, table):
    refused(f"TRUNCATE {table} CASCADE")


@pytest.mark.skipif(not ON_POSTGRES, reason="roles exist only on PostgreSQL")
@pytest.mark.parametrize(
    ("sql", "allowed"),
    [
        ("SELECT count(*) FROM ledger_entry", True),
        ("INSERT INTO ledger_checkpoint (size, root, note, key_id, signed_at) VALUES (9, '', 'n', 'k', now())", True),
        ("UPDATE ledger_entry SET subject = 'x'", False),
        ("DELETE FROM ledger_entry", False),
        ("TRUNCATE ledger_entry", False),
        ("DELETE FROM ledger_queue", True),  # the sequencer's own clean-up of the staging table
        ("UPDATE ledger_queue SET kind = 'x'", False),
    ],
)
def test_it_gives_the_application_role_only_insert_and_select_on_the_ledger(ledger, sql, allowed):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.LEDGER_APP_ROLE])
        assert cursor.fetchone(), "migration 0002 creates the application role"
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SET LOCAL ROLE "{settings.LEDGER_APP_ROLE}"')
            cursor.execute(sql)
            transaction.set_rollback(True)
        outcome = True
    except DatabaseError as exc:
        assert "permission denied" in str(exc)
        outcome = False
    assert outcome is allowed
