"""RFC 3161 timestamps in packs: with PACK_TSA_URL the PDF signature carries one; with LEDGER_TSA_URL
the pack carries the checkpoint's token (checkpoint.tsr), which the offline verifier checks.

The TSA is a loopback HTTP server (tests/support/tsa.py) with a timestamping certificate made here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from exports.pack.build import build_pack
from exports.signing import load_pack_signer
from exports.verifier import read_attachments, verify
from tests.support.tsa import loopback_tsa


@pytest.fixture
def tsa_url():
    with loopback_tsa() as tsa:
        yield tsa.url, tsa.asked


@pytest.fixture
def ledger_tsa(settings):
    with loopback_tsa("Checkpoint TSA") as tsa:
        settings.LEDGER_TSA_URL = tsa.url
        yield tsa


def test_it_timestamps_the_signature_when_a_tsa_is_configured(
    evidence, operator_cert, entries_scope, ledger_pub, tsa_url, tmp_path
):
    url, asked = tsa_url
    cert, key, password = operator_cert

    built = build_pack(entries_scope, "alice", load_pack_signer(str(cert), str(key), password, url))
    report = verify(built.pdf, ledger_pub.read_text())

    assert asked and set(asked) == {"application/timestamp-query"}  # pyHanko also asks once to size the token
    assert report.ok, report.text()
    assert "RFC 3161 timestamp" in report.text() and "Loopback TSA" in report.text()
    if shutil.which("pdfsig"):
        path = tmp_path / "pack.pdf"
        path.write_bytes(built.pdf)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True).stdout
        assert "Signature is Valid." in out and "Total document signed" in out


def test_it_carries_the_checkpoint_token_and_the_verifier_checks_it(
    ledger_tsa, evidence, operator_signer, entries_scope, ledger_pub
):
    built = build_pack(entries_scope, "alice", operator_signer)
    attachments = read_attachments(built.pdf)

    assert attachments["checkpoint.tsr"] == bytes(built.evidence.checkpoint.timestamp_token)
    report = verify(built.pdf, ledger_pub.read_text(), tsa_cert=ledger_tsa.cert_pem())
    assert report.ok, report.text()
    assert "by Common Name: Checkpoint TSA (RFC 3161), signed by the TSA certificate given" in report.text()


def test_the_offline_verifier_fails_a_checkpoint_token_from_another_tsa(
    ledger_tsa, evidence, operator_signer, entries_scope, ledger_pub
):
    built = build_pack(entries_scope, "alice", operator_signer)
    with loopback_tsa("Another TSA") as another:
        report = verify(built.pdf, ledger_pub.read_text(), tsa_cert=another.cert_pem())

    assert not report.ok
    assert report.failures == [
        "checkpoint timestamp: its signature does not verify with the certificate of Common Name: Another TSA"
    ]


def test_a_pack_without_a_checkpoint_token_says_not_timestamped(evidence, operator_signer, entries_scope, ledger_pub):
    built = build_pack(entries_scope, "alice", operator_signer)

    report = verify(built.pdf, ledger_pub.read_text())
    assert report.ok, report.text()
    assert "checkpoint.tsr" not in read_attachments(built.pdf)
    assert "checkpoint not timestamped (the pack carries no RFC 3161 token)" in report.text()


def test_the_embedded_verifier_checks_the_token_from_its_attachments_alone(
    ledger_tsa, evidence, operator_signer, entries_scope, ledger_pub, tmp_path
):
    built = build_pack(entries_scope, "alice", operator_signer)
    folder = tmp_path / "extracted"
    folder.mkdir()
    for name, data in read_attachments(built.pdf).items():
        (folder / name).write_bytes(data)
    (folder / "pack.pdf").write_bytes(built.pdf)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTHON", "DATABASE"))}

    run = subprocess.run(
        [sys.executable, "-I", "verify_pack.py", "pack.pdf", "--ledger-key", str(ledger_pub)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert "by Common Name: Checkpoint TSA (RFC 3161), signed by the certificate it carries" in run.stdout
