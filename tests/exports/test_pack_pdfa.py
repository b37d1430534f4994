"""A signed pack is the PDF/A-3b it says it is: PDF 1.7 in its header and catalog after signing,
PDF/A-3 level B in its XMP, an sRGB output intent, and a stated MIME type on every attachment."""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from exports.pack.render import render_pdf
from exports.signing import load_pack_signer, sign_pdf

pytestmark = pytest.mark.django_db

MIME_TYPES = {
    "entries.jsonl": "/application/jsonl",
    "proofs.json": "/application/json",
    "summary.json": "/application/json",
    "findings.json": "/application/json",
    "checkpoint.note": "/text/plain",
    "ledger-key.pub": "/text/plain",
    "verify_pack.py": "/text/x-python",
    "merkle.py": "/text/x-python",
    "note.py": "/text/x-python",
    "timestamp.py": "/text/x-python",
    "figures.py": "/text/x-python",
}


def reader_of(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf))


def test_it_stays_pdf_1_7_after_signing(shared):
    built, _ = shared
    reader = reader_of(built.pdf)
    xmp = reader.root["/Metadata"].get_object().data.decode()

    assert built.pdf.startswith(b"%PDF-1.7\n")
    assert reader.input_version == (1, 7)  # the catalog's /Version, when there is one, over the header
    assert str(reader.root.get("/Version", "/1.7")) == "/1.7"
    assert "/ISO_" not in set(map(str, reader.root.get("/Extensions", {})))  # no ISO 32001/32002 extension
    assert re.search(r'pdfaid:part="3"', xmp) and re.search(r'pdfaid:conformance="B"', xmp)
    assert reader.root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert len(reader.embedded_signatures) == 1


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="pdfinfo (Debian poppler-utils) is not installed")
def test_it_says_pdf_1_7_to_pdfinfo(custody_packs, tmp_path):
    path = tmp_path / "pack.pdf"
    path.write_bytes(custody_packs["environment"].pdf)

    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout

    assert re.search(r"^PDF version:\s+1\.7$", out, re.M), out


def test_it_states_the_mime_type_of_every_attachment(shared):
    built, _ = shared
    names = reader_of(built.pdf).root["/Names"]["/EmbeddedFiles"]["/Names"]
    stated = {}
    for i in range(0, len(names), 2):
        spec = names[i + 1].get_object()
        stated[str(spec["/UF"])] = str(spec["/EF"]["/F"].get_object()["/Subtype"])

    assert stated == MIME_TYPES


def test_it_makes_an_rsa_demo_certificate_unless_asked_for_ecdsa(settings, tmp_path, capsys):
    settings.PACK_SIGNING_CERT = str(tmp_path / "demo.crt")
    settings.PACK_SIGNING_KEY = str(tmp_path / "demo.key")
    settings.PACK_SIGNING_KEY_PASSWORD = ""

    call_command("create_pack_certificate")
    rsa = load_pack_signer().signer.signing_cert.public_key
    call_command("create_pack_certificate", "--force", "--key-type", "ecdsa")
    ec = load_pack_signer().signer.signing_cert.public_key

    assert (rsa.algorithm, rsa.bit_size) == ("rsa", 3072)
    assert ec.algorithm == "ec"
    assert "note: packs signed with an ECDSA key are PDF 2.0, so not PDF/A-3b" in capsys.readouterr().out


def test_it_warns_that_an_ecdsa_key_makes_the_pack_pdf_2_0(settings, tmp_path, caplog, operator_signer):
    from exports.signing import create_demo_certificate

    create_demo_certificate(tmp_path / "ec.crt", tmp_path / "ec.key", "Elliptic Operator", key_type="ecdsa")
    ecdsa = load_pack_signer(str(tmp_path / "ec.crt"), str(tmp_path / "ec.key"), "", "")
    unsigned, _ = render_pdf("<p>pack</p>", {"summary.json": b"{}"}, datetime(2026, 3, 2, tzinfo=UTC))

    with caplog.at_level(logging.WARNING, logger="exports.signing"):
        by_rsa = sign_pdf(unsigned, operator_signer)
        assert not caplog.records
        by_ecdsa = sign_pdf(unsigned, ecdsa)

    assert reader_of(by_rsa).input_version == (1, 7)
    assert reader_of(by_ecdsa).input_version == (2, 0)
    assert "made the pack PDF 2.0, so it is not PDF/A-3b" in caplog.text
