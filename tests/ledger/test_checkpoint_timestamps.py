"""With LEDGER_TSA_URL set, each signed checkpoint carries an RFC 3161 token over its note's hash,
which verify_ledger checks; a TSA outage leaves the checkpoint signed and says it is not timestamped.

The TSA is a loopback HTTP server (tests/support/tsa.py) signing with a certificate made per test.
"""

import hashlib
import io

import pytest
from asn1crypto import cms
from django.core.management import CommandError, call_command

from ledger import timestamp
from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint
from ledger.models import Checkpoint
from tests.support.tsa import loopback_tsa

from .helpers import records
from .owner import owner_executes

pytestmark = pytest.mark.django_db


@pytest.fixture
def tsa(settings):
    with loopback_tsa() as authority:
        settings.LEDGER_TSA_URL = authority.url
        yield authority


def verify(*args):
    out = io.StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue().strip()


def test_it_stores_a_token_whose_imprint_is_the_sha256_of_the_signed_note(ledger_key, tsa):
    append_entries(records(4))
    checkpoint = sign_checkpoint()

    token = bytes(Checkpoint.objects.get(size=4).timestamp_token)
    signed = cms.ContentInfo.load(token)["content"]
    imprint = signed["encap_content_info"]["content"].parsed["message_imprint"]
    assert imprint["hashed_message"].native == hashlib.sha256(checkpoint.note.encode()).digest()
    assert tsa.asked == ["application/timestamp-query"]
    assert timestamp.verify_token(token, checkpoint.note, tsa.cert_pem()).tsa == "Common Name: Loopback TSA"


def test_verify_ledger_checks_every_token_and_counts_them(ledger_key, tsa):
    append_entries(records(3))
    sign_checkpoint()
    append_entries(records(2, start=3))
    sign_checkpoint()

    assert verify().endswith("2 checkpoints verified, 2 held outside, 2 timestamped")


def test_a_tsa_outage_leaves_the_checkpoint_signed_and_reported_not_timestamped(ledger_key, tsa, client):
    append_entries(records(3))
    sign_checkpoint()
    tsa.down = True
    append_entries(records(2, start=3))

    checkpoint = sign_checkpoint()

    assert checkpoint.size == 5 and checkpoint.timestamp_token is None
    assert verify().endswith("2 checkpoints verified, 2 held outside, 1 timestamped, 1 not timestamped (size 5)")
    response = client.get("/readyz")
    assert response.status_code in (200, 503)  # readiness is the other checks' business
    detail = response.json()["checks"]["checkpoint_timestamp"]
    assert detail == {
        "ok": True,
        "detail": "last checkpoint (size 5) not timestamped: the TSA did not answer; signing continues",
    }


def test_an_unreachable_tsa_does_not_stop_signing(ledger_key, settings):
    with loopback_tsa() as gone:
        url = gone.url
    settings.LEDGER_TSA_URL = url  # nothing listens there any more
    append_entries(records(2))

    assert sign_checkpoint().timestamp_token is None
    assert verify().endswith("1 checkpoints verified, 1 held outside, 0 timestamped, 1 not timestamped (size 2)")


def test_verify_ledger_names_a_token_swapped_for_one_over_another_note(ledger_key, tsa):
    append_entries(records(3))
    sign_checkpoint()
    append_entries(records(2, start=3))
    sign_checkpoint()
    other = bytes(Checkpoint.objects.get(size=5).timestamp_token)

    owner_executes("UPDATE ledger_checkpoint SET timestamp_token = %s WHERE size = 3", [other])

    with pytest.raises(CommandError) as caught:
        verify()
    assert str(caught.value).splitlines() == [
        "ledger BROKEN at seq 2: checkpoint 3: its RFC 3161 timestamp token: "
        "its message imprint is not the SHA-256 of this checkpoint note"
    ]


def test_verify_ledger_names_a_token_not_signed_by_the_pinned_tsa_certificate(ledger_key, tsa, tmp_path):
    append_entries(records(3))
    sign_checkpoint()
    with loopback_tsa("Another TSA") as another:
        pinned = tmp_path / "tsa.pem"
        pinned.write_bytes(another.cert_pem())

    with pytest.raises(CommandError) as caught:
        verify("--tsa-cert", str(pinned))
    assert "its signature does not verify with the certificate of Common Name: Another TSA" in str(caught.value)
    pinned.write_bytes(tsa.cert_pem())
    assert verify("--tsa-cert", str(pinned)).endswith("1 timestamped")


def test_verify_ledger_names_a_token_whose_tstinfo_was_altered(ledger_key, tsa):
    append_entries(records(3))
    sign_checkpoint()
    token = bytearray(Checkpoint.objects.get(size=3).timestamp_token)
    info = cms.ContentInfo.load(bytes(token))["content"]["encap_content_info"]["content"].parsed
    serial = info["serial_number"].contents
    at = bytes(token).index(serial)
    token[at] ^= 0x01  # another serial number: the signed digest no longer matches

    owner_executes("UPDATE ledger_checkpoint SET timestamp_token = %s WHERE size = 3", [bytes(token)])

    with pytest.raises(CommandError) as caught:
        verify()
    assert "its signed message digest does not match its TSTInfo" in str(caught.value)


def test_a_checkpoint_signed_with_a_pinned_certificate_that_does_not_match_keeps_no_token(
    ledger_key, tsa, settings, tmp_path
):
    with loopback_tsa("Another TSA") as another:
        pinned = tmp_path / "tsa.pem"
        pinned.write_bytes(another.cert_pem())
    settings.LEDGER_TSA_CERT = str(pinned)
    append_entries(records(2))

    assert sign_checkpoint().timestamp_token is None  # a token no verifier would accept is not kept
