"""Rotating the checkpoint signing key: the switch checkpoint carries both signatures, the new key
signs from then on, and every key stays published so older checkpoints still verify."""

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from rest_framework.test import APIClient

from evidence.core.tokens import issue_api_token
from exports.verifier import parse_ledger_key
from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint
from ledger.keys import key_path, load_signer, load_verifiers, next_key_path, public_key_path
from ledger.models import Checkpoint
from ledger.note import SIGNATURE_PREFIX, NoteError, Verifier, verify_checkpoint

from .helpers import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotated(ledger_key):
    """Checkpoint 5 by the old key, 8 by both (the switch), 10 by the new key only."""
    append_entries(records(5))
    sign_checkpoint()
    out = io.StringIO()
    call_command("rotate_signing_key", stdout=out)
    assert "the next checkpoint will be signed by both keys" in out.getvalue()
    append_entries(records(3, start=5))
    sign_checkpoint()
    append_entries(records(2, start=8))
    sign_checkpoint()
    return ledger_key.verifier(), load_signer().verifier()


def signature_lines(size):
    return [line for line in Checkpoint.objects.get(size=size).note.splitlines() if line.startswith(SIGNATURE_PREFIX)]


def test_it_signs_the_switch_checkpoint_with_both_keys(rotated):
    old, new = rotated
    assert old != new
    assert [len(signature_lines(size)) for size in (5, 8, 10)] == [1, 2, 1]
    switch = Checkpoint.objects.get(size=8)
    assert verify_checkpoint(switch.note, old).size == 8
    assert verify_checkpoint(switch.note, new).size == 8
    assert switch.key_id == new.key_id.hex()


def test_it_signs_with_the_new_key_only_after_the_switch(rotated):
    old, new = rotated
    assert verify_checkpoint(Checkpoint.objects.get(size=10).note, new).size == 10
    with pytest.raises(NoteError, match="no signature by a known key"):
        verify_checkpoint(Checkpoint.objects.get(size=10).note, old)
    assert not next_key_path().exists()
    assert load_signer().verifier() == new  # the old private key is gone from LEDGER_SIGNING_KEY
    assert key_path().read_text().count("PRIVATE+KEY") == 1


def test_it_verifies_checkpoints_from_before_and_after_the_rotation(rotated):
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue().startswith("ledger OK: 10 entries, 8 tree nodes, 3 checkpoints verified")
    _, new = rotated
    with pytest.raises(NoteError):
        verify_checkpoint(Checkpoint.objects.get(size=5).note, new)  # so only a published old key explains 5


def test_it_keeps_publishing_the_old_key_current_first(rotated):
    old, new = rotated
    assert load_verifiers() == [new, old]
    assert public_key_path().read_text() == f"{new.encode()}\n{old.encode()}\n"
    reader = User.objects.create_user("a")
    reader.groups.add(Group.objects.get_or_create(name="auditors")[0])
    auditor = APIClient()
    auditor.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(reader).token}")
    body = auditor.get("/api/v1/checkpoints/key/").json()
    assert [Verifier.parse(k["verifier_key"]) for k in body["keys"]] == [new, old]
    assert [k["current"] for k in body["keys"]] == [True, False]
    assert Verifier.parse(body["verifier_key"]) == new


def test_it_lets_the_offline_verifier_take_every_published_key(rotated):
    old, new = rotated
    assert parse_ledger_key(public_key_path().read_text()) == [new, old]


def test_it_switches_at_once_when_entries_wait_unsigned(ledger_key):
    append_entries(records(4))
    sign_checkpoint()
    append_entries(records(2, start=4))
    out = io.StringIO()
    call_command("rotate_signing_key", stdout=out)
    assert "switched: checkpoint 6 is signed by both keys" in out.getvalue()
    assert len(signature_lines(6)) == 2
    assert verify_checkpoint(Checkpoint.objects.get(size=6).note, ledger_key.verifier()).size == 6
