"""verify_ledger recomputes everything and names the first bad seq, even against the database owner."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint
from ledger.keys import load_verifier
from ledger.note import Signer
from ledger.verification import verify_ledger

from ..conftest import triggers_suspended
from .helpers import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(ledger_key):
    append_entries(records(10))
    sign_checkpoint()
    append_entries(records(7, start=10))
    sign_checkpoint()
    return ledger_key


def owner_executes(sql, params=()):
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_reports_a_clean_ledger_in_one_line(ledger, capsys):
    call_command("verify_ledger")
    out = capsys.readouterr().out
    assert out == "ledger OK: 17 entries, 15 tree nodes, 2 checkpoints verified, 2 held outside\n"


def test_it_catches_one_flipped_payload_byte_and_names_its_seq(ledger):
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM ledger_entry WHERE seq = 6")
        payload = bytearray(bytes(cursor.fetchone()[0]))
    payload[20] ^= 0x01
    owner_executes("UPDATE ledger_entry SET payload = %s WHERE seq = 6", [bytes(payload)])
    report = verify_ledger(load_verifier())
    assert not report.ok and report.bad_seq == 6
    assert "payload does not match" in report.problem


def test_it_catches_a_rewritten_entry_whose_leaf_hash_was_recomputed(ledger):
    from ledger import merkle

    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM ledger_entry WHERE seq = 3")
        payload = bytes(cursor.fetchone()[0]).replace(b'"i":3', b'"i":9')
    owner_executes(
        "UPDATE ledger_entry SET payload = %s, leaf_hash = %s WHERE seq = 3", [payload, merkle.leaf_hash(payload)]
    )
    report = verify_ledger(load_verifier())
    assert not report.ok and report.bad_seq == 3 and "chain hash" in report.problem


def test_it_catches_a_changed_stored_hash(ledger):
    owner_executes("UPDATE ledger_entry SET chain_hash = %s WHERE seq = 12", [b"\x11" * 32])
    report = verify_ledger(load_verifier())
    assert (report.ok, report.bad_seq) == (False, 12)


def test_it_catches_a_changed_tree_node_and_names_the_seqs_it_covers(ledger):
    owner_executes(
        "UPDATE ledger_treenode SET hash = %s WHERE level = 2 AND " + quoted_index() + " = 1", [b"\x22" * 32]
    )
    report = verify_ledger(load_verifier())
    assert not report.ok and report.bad_seq == 7
    assert "tree node (level 2, index 1) covering seqs 4-7 has a wrong hash" in report.problem


def test_it_catches_a_forged_checkpoint_signature(ledger):
    forged = Signer.generate("test.ledger/log").sign("evidence-ledger.local/ledger\n10\n" + "A" * 43 + "=\n")
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM ledger_checkpoint WHERE size = 10")
        note = cursor.fetchone()[0]
    body, _, _ = note.partition("\n\n")
    forged_note = body + "\n\n" + forged.partition("\n\n")[2]
    owner_executes("UPDATE ledger_checkpoint SET note = %s WHERE size = 10", [forged_note])
    report = verify_ledger(load_verifier())
    assert not report.ok and report.bad_seq == 9 and "checkpoint 10" in report.problem


def test_it_catches_a_deleted_entry(ledger):
    owner_executes("DELETE FROM ledger_entry WHERE seq = 16")
    report = verify_ledger(load_verifier())
    assert not report.ok and "checkpoint for size 17" in report.problem


def test_it_exits_non_zero_with_one_line_naming_the_seq(ledger):
    owner_executes("UPDATE ledger_entry SET leaf_hash = %s WHERE seq = 0", [b"\x00" * 32])
    with pytest.raises(CommandError, match=r"^ledger BROKEN at seq 0: payload does not match"):
        call_command("verify_ledger")


def test_it_refuses_to_sign_a_tree_inconsistent_with_the_last_checkpoint(ledger):
    from ledger import merkle
    from ledger.checkpoints import CheckpointRefused
    from ledger.store import fetch_nodes

    append_entries(records(1, start=40))
    # The owner rewrites the first 16 entries' subtree and makes the head agree with it.
    owner_executes(
        "UPDATE ledger_treenode SET hash = %s WHERE level = 4 AND " + quoted_index() + " = 0", [b"\x33" * 32]
    )
    forged_root = merkle.subtree_root(18, fetch_nodes)
    owner_executes("UPDATE ledger_head SET root = %s", [forged_root])
    with pytest.raises(CheckpointRefused, match="not consistent with checkpoint 17"):
        sign_checkpoint()


def test_it_refuses_to_sign_when_the_stored_tree_disagrees_with_the_head(ledger):
    from ledger.checkpoints import CheckpointRefused

    append_entries(records(1, start=40))
    owner_executes(
        "UPDATE ledger_treenode SET hash = %s WHERE level = 4 AND " + quoted_index() + " = 0", [b"\x33" * 32]
    )
    with pytest.raises(CheckpointRefused, match="does not match the head root"):
        sign_checkpoint()


def quoted_index():
    return connection.ops.quote_name("index")
