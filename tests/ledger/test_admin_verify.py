"""The entry page's verify button: inclusion in the latest signed checkpoint, checked on the server."""

import pytest
from django.db import connection

from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint

from ..conftest import triggers_suspended
from .helpers import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor.user)
    return client


@pytest.fixture
def ledger(ledger_key):
    append_entries(records(10))
    sign_checkpoint()
    append_entries(records(2, start=10))  # not yet in a checkpoint
    return ledger_key


def verify(client, seq: int) -> str:
    page = client.get(f"/admin/ledger/entry/{seq}/verify/")
    assert page.status_code == 200
    return page.content.decode()


def test_it_offers_the_verify_button_on_the_entry_page(auditor_client, ledger):
    page = auditor_client.get("/admin/ledger/entry/3/change/")
    assert 'href="/admin/ledger/entry/3/verify/"' in page.content.decode()


def test_it_verifies_an_entry_in_the_latest_checkpoint(auditor_client, ledger):
    text = verify(auditor_client, 3)
    assert "Verified</strong>" in text and "included in the signed checkpoint of size 10" in text


def test_it_says_an_entry_after_the_latest_checkpoint_is_not_verifiable_yet(auditor_client, ledger):
    text = verify(auditor_client, 11)
    assert "Not verified</strong>" in text and "entry 11 is not in the tree of size 10" in text


def test_it_catches_an_entry_rewritten_by_the_database_owner(auditor_client, ledger):
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM ledger_entry WHERE seq = 4")
        payload = bytearray(bytes(cursor.fetchone()[0]))
    payload[20] ^= 0x01
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_entry SET payload = %s WHERE seq = 4", [bytes(payload)])
    text = verify(auditor_client, 4)
    assert "Not verified</strong>" in text and "entry 4 is NOT in checkpoint 10" in text


def test_it_refuses_a_checkpoint_signed_by_another_key(auditor_client, ledger, settings, tmp_path):
    from ledger.keys import create_signing_key

    settings.LEDGER_SIGNING_KEY = str(tmp_path / "other" / "ledger.key")
    create_signing_key("other.ledger/log")
    text = verify(auditor_client, 3)
    assert "Not verified</strong>" in text and "checkpoint 10 does not verify" in text


def test_it_says_which_column_the_database_owner_edited(auditor_client, ledger):
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_entry SET subject = 'repo/elsewhere' WHERE seq = 5")
    text = verify(auditor_client, 5)
    assert "Not verified</strong>" in text and "its column subject was edited" in text
