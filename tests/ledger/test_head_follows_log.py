"""The head row names the log's end and nothing else: the database refuses any other head, the
sequencer will not build on a moved one, and verify_ledger calls a moved head a head problem."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from ledger import merkle
from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint
from ledger.keys import load_verifiers
from ledger.models import Entry
from ledger.sequencer import HeadMismatch, read_head
from ledger.verification import verify_ledger

from ..conftest import ON_POSTGRES
from .helpers import records
from .owner import owner_executes

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="roles and SQL SHA-256 exist only on PostgreSQL")


@pytest.fixture
def ledger(ledger_key):
    append_entries(records(10))
    sign_checkpoint()


def refused(sql, params=(), role=None):
    with pytest.raises(DatabaseError, match="may only move the head forward") as caught:
        with transaction.atomic(), connection.cursor() as cursor:
            if role:
                cursor.execute(f'SET LOCAL ROLE "{role}"')
            cursor.execute(sql, params)
    return str(caught.value)


def test_it_refuses_to_overwrite_the_head_chain_hash(ledger):
    refused("UPDATE ledger_head SET chain_hash = %s", [b"\x11" * 32])


def test_it_refuses_to_move_the_head_past_the_last_entry(ledger):
    refused("UPDATE ledger_head SET size = size + 1")


@pytest.mark.postgres
@postgres_only
def test_it_keeps_the_app_role_from_moving_the_head(ledger):
    role = settings.LEDGER_APP_ROLE
    refused("UPDATE ledger_head SET chain_hash = %s", [b"\x11" * 32], role=role)
    refused("UPDATE ledger_head SET size = size + 1", role=role)
    # Even after inserting an entry (which it may), the head must carry the stored tree's root.
    head = read_head()
    payload = b'{"forged":true}'
    leaf = merkle.leaf_hash(payload)
    chain = merkle.chain_hash(head.chain, leaf)
    message = refused(
        "INSERT INTO ledger_entry (seq, idempotency_key, kind, source, subject, observed_at, payload, leaf_hash, "
        "chain_hash, sequenced_at) VALUES (%s, 'k', 'x.y', 's', 's', now(), %s, %s, %s, now()); "
        "UPDATE ledger_head SET size = size + 1, root = %s, chain_hash = %s",
        [head.size, payload, leaf, chain, b"\x00" * 32, chain],
        role=role,
    )
    assert "root of the stored tree" in message
    assert read_head() == head


@pytest.mark.postgres
@postgres_only
def test_it_lets_the_app_role_sequence_entries(ledger):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{settings.LEDGER_APP_ROLE}"')
        append_entries(records(5, start=10))
        assert read_head().size == 15


def test_it_reports_a_moved_head_as_a_head_problem_not_as_the_next_entry(ledger):
    owner_executes("UPDATE ledger_head SET chain_hash = %s", [b"\x11" * 32])
    with pytest.raises(HeadMismatch, match="another chain hash"):
        append_entries(records(1, start=10))
    assert Entry.objects.count() == 10  # nothing was chained onto the moved head
    report = verify_ledger(load_verifiers())
    assert not report.ok and report.bad_seq is None
    assert report.problem.startswith("head row: its chain hash disagrees with the entries (size 10)")


def test_it_refuses_to_sequence_onto_a_head_with_another_root(ledger):
    owner_executes("UPDATE ledger_head SET root = %s", [b"\x22" * 32])
    with pytest.raises(HeadMismatch, match="another root"):
        append_entries(records(1, start=10))
    assert verify_ledger(load_verifiers()).problem.startswith("head row: its root disagrees")
