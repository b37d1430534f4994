"""manage.py audit_pack, verify_pack and create_pack_certificate."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from exports.models import AuditPack
from exports.signing import load_pack_signer

# The shared pack is built in the test database, so the database must be set up even for tests
# that only read the pack.
pytestmark = pytest.mark.django_db


def test_it_writes_a_pack_inline_and_verifies_it(evidence, pack_settings, ledger_pub, tmp_path, capsys):
    out = tmp_path / "out" / "pack.pdf"

    call_command("audit_pack", "--kinds", "github.review", "--sample", "2", "--as", "alice", "--out", str(out))
    call_command("verify_pack", str(out), "--ledger-key", str(ledger_pub))

    printed = capsys.readouterr().out
    pack = AuditPack.objects.get()
    assert out.read_bytes() == Path(pack.file_path).read_bytes()
    assert pack.status == "done" and pack.requested_by_name == "alice"
    assert pack.scope["sample"] == 2 and pack.scope["seed"]  # a random seed, recorded
    assert "pack OK" in printed


def test_it_fails_verify_pack_on_a_tampered_pack(shared, tmp_path):
    built, ledger_pub = shared
    pdf = bytearray(built.pdf)
    pdf[len(pdf) // 2] ^= 0x01
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(pdf))

    with pytest.raises(CommandError, match=r"tampered.pdf: PDF signature: the signed bytes were changed"):
        call_command("verify_pack", str(path), "--ledger-key", str(ledger_pub))


def test_it_refuses_a_bad_ledger_key_file(shared, tmp_path):
    built, _ = shared
    path, key = tmp_path / "pack.pdf", tmp_path / "bad.pub"
    path.write_bytes(built.pdf)
    key.write_text("not a key")

    with pytest.raises(CommandError, match=r"verify_pack: --ledger-key: verifier key must look like"):
        call_command("verify_pack", str(path), "--ledger-key", str(key))


def test_it_says_which_scope_option_is_wrong(evidence, pack_settings, tmp_path):
    with pytest.raises(CommandError, match=r"^audit_pack: until: must be later than since$"):
        call_command("audit_pack", "--kinds", "x.y", "--since", "2026-03-02", "--until", "2026-03-01", "--out", "x.pdf")
    assert not AuditPack.objects.exists()


def test_it_fails_clearly_without_a_signing_certificate(evidence, pack_settings, tmp_path):
    pack_settings.PACK_SIGNING_CERT = str(tmp_path / "missing.crt")

    with pytest.raises(CommandError, match=r"PACK_SIGNING_CERT: no file at .*missing.crt; run `manage.py create_pack"):
        call_command("audit_pack", "--kinds", "github.review", "--out", str(tmp_path / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()
    assert AuditPack.objects.get().status == "failed"


def test_it_creates_a_demo_certificate_that_signs(settings, tmp_path, capsys):
    settings.PACK_SIGNING_CERT = str(tmp_path / "demo.crt")
    settings.PACK_SIGNING_KEY = str(tmp_path / "demo.key")
    settings.PACK_SIGNING_KEY_PASSWORD = "pw"

    call_command("create_pack_certificate", "--name", "Demo Operator")
    signer = load_pack_signer()

    assert signer.certificate_sha256 in capsys.readouterr().out
    assert "Demo Operator" in signer.subject
    assert (tmp_path / "demo.key").stat().st_mode & 0o077 == 0
    with pytest.raises(CommandError, match=r"demo\.crt exists; pass --force"):
        call_command("create_pack_certificate")
    call_command("create_pack_certificate", "--if-missing")
    assert load_pack_signer().certificate_sha256 == signer.certificate_sha256  # kept, not replaced


def test_it_loads_a_pkcs12_certificate_and_names_a_wrong_password(settings, tmp_path):
    settings.PACK_SIGNING_CERT = str(tmp_path / "demo.p12")
    settings.PACK_SIGNING_KEY = ""
    settings.PACK_SIGNING_KEY_PASSWORD = "right"
    call_command("create_pack_certificate")

    assert load_pack_signer().subject.endswith("Evidence ledger demo operator")
    settings.PACK_SIGNING_KEY_PASSWORD = "wrong"
    with pytest.raises(Exception, match=r"PACK_SIGNING_CERT \(PKCS#12 .*demo.p12\): cannot load"):
        load_pack_signer()


def test_it_takes_a_whole_scope_as_json(evidence, pack_settings, tmp_path):
    out = tmp_path / "pack.pdf"

    call_command("audit_pack", "--scope", '{"type": "entries", "seqs": [5, 6]}', "--out", str(out))

    assert AuditPack.objects.get().scope == {"type": "entries", "seqs": [5, 6]}
    assert out.read_bytes().startswith(b"%PDF-1.7")
    with pytest.raises(CommandError, match=r"^audit_pack: --scope: not valid JSON"):
        call_command("audit_pack", "--scope", "{type: entries}", "--out", str(out))
