"""A pack built from ledger entries verifies: our verifier, pdfsig, pyHanko, and the embedded script alone."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from exports.verifier import read_attachments, verify
from ledger.models import Entry
from ledger.proofs import inclusion_proof

# The shared pack is built in the test database, so the database must be set up even for tests
# that only read the pack.
pytestmark = pytest.mark.django_db


def test_it_verifies_a_fresh_pack(shared):
    built, ledger_pub = shared
    report = verify(built.pdf, ledger_pub.read_text())

    assert report.ok, report.text()
    assert "8 entries" in report.text()
    assert "covering the whole file" in report.text()
    assert "NOT trusted" in report.text()  # the demo certificate is self-signed


def test_it_embeds_the_exact_stored_bytes_with_one_checkpoint(built):
    files = read_attachments(built.pdf)
    lines = [json.loads(line) for line in files["entries.jsonl"].decode().splitlines()]
    stored = {e.seq: bytes(e.payload) for e in Entry.objects.all()}
    proofs = json.loads(files["proofs.json"])

    assert {line["seq"] for line in lines} == set(built.evidence.proofs)
    for line in lines:
        assert base64.b64decode(line["payload"]) == stored[line["seq"]]
    assert {p["tree_size"] for p in proofs["proofs"]} == {built.evidence.checkpoint.size}
    for proof in proofs["proofs"]:  # the batched paths are the ledger's own proofs
        path = inclusion_proof(proof["seq"], built.evidence.checkpoint.size).path
        assert [base64.b64decode(p) for p in proof["path"]] == path
    assert files["checkpoint.note"].decode() == built.evidence.checkpoint.note
    assert files["ledger-key.pub"].decode().strip() == built.evidence.ledger_key


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (Debian poppler-utils) is not installed")
def test_it_satisfies_pdfsig(shared, tmp_path):
    built, _ = shared
    path = tmp_path / "pack.pdf"
    path.write_bytes(built.pdf)

    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True).stdout

    assert "Signature is Valid." in out
    assert "Total document signed" in out
    assert "ETSI.CAdES.detached" in out  # PAdES
    assert "Certificate issuer is unknown" in out  # self-signed, reported as such


def test_it_satisfies_pyhanko_validation(shared, operator_cert):
    built, _ = shared
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    signature = PdfFileReader(io.BytesIO(built.pdf)).embedded_signatures[0]
    untrusted = validate_pdf_signature(signature, ValidationContext(trust_roots=[], allow_fetching=False))
    cert = x509.Certificate.load(pem.unarmor(operator_cert[0].read_bytes())[2])
    trusted = validate_pdf_signature(signature, ValidationContext(trust_roots=[cert], allow_fetching=False))

    assert untrusted.intact and untrusted.valid and not untrusted.trusted
    assert untrusted.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert trusted.bottom_line


def test_it_runs_the_embedded_verifier_from_its_attachments_alone(shared, tmp_path):
    built, ledger_pub = shared
    folder = tmp_path / "extracted"
    folder.mkdir()
    for name, data in read_attachments(built.pdf).items():
        (folder / name).write_bytes(data)
    (folder / "pack.pdf").write_bytes(built.pdf)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTHON", "DATABASE"))}

    # -I: no PYTHONPATH, no site dir of the user, no script folder on the path: only what the script adds.
    run = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", "verify_pack.py", "pack.pdf", "--ledger-key", str(ledger_pub)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert run.stdout.startswith("pack OK")
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in imported if m.split(".")[0] in ("django", "ledger", "exports", "config")}
    assert {"merkle", "note", "figures"} <= imported


def test_it_states_summary_figures_that_match_the_test_evidence(shared):
    built, _ = shared
    figures = json.loads(read_attachments(built.pdf)["summary.json"])["figures"]

    assert figures["entries.total"] == 8
    assert figures["entries.by_kind"] == {"argocd.deployment": 3, "github.review": 5}
    assert figures["entries.by_day"] == {"2026-03-02": 1, "2026-03-03": 3, "2026-03-04": 2, "2026-03-05": 2}
    assert figures["checkpoint.size"] == built.evidence.checkpoint.size
    assert figures["signer.certificate_sha256"] == built.summary["figures"]["signer.certificate_sha256"]
    assert len(figures["sample.seqs"]) == 3


def test_it_records_the_pack_as_a_ledger_entry(built):
    from exports.pack.build import PACK_KIND, record_pack

    seq = record_pack(built, "alice")
    entry = Entry.objects.get(seq=seq)

    assert entry.kind == PACK_KIND
    assert entry.data["sha256"] == hashlib.sha256(built.pdf).hexdigest()
    assert entry.data["requested_by"] == "alice"
    assert entry.data["scope"]["kinds"] == ["argocd.deployment", "github.review"]
    assert record_pack(built, "alice") == seq  # the same PDF is the same fact


def test_it_keeps_the_pdfa_3b_markers_through_signing(shared):
    import re

    from pyhanko.pdf_utils.reader import PdfFileReader

    built, _ = shared
    reader = PdfFileReader(io.BytesIO(built.pdf))
    xmp = reader.root["/Metadata"].get_object().data.decode()
    producer = re.search(r'pdf:Producer="([^"]*)"', xmp)
    files = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    related = [files[i]["/AFRelationship"] for i in range(1, len(files), 2)]
    af = list(reader.root.raw_get("/AF"))

    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert reader.root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert producer and producer.group(1) == reader.trailer["/Info"]["/Producer"]  # XMP and Info agree
    assert len(af) == len(set(af)) == len(read_attachments(built.pdf))  # each attachment once
    assert set(related) <= {"/Data", "/Supplement"}


def test_it_checks_the_signer_against_a_trusted_certificate_when_given(shared, operator_cert, tmp_path):
    from exports.signing import create_demo_certificate

    built, ledger_pub = shared
    create_demo_certificate(tmp_path / "someone.crt", tmp_path / "someone.key", "Someone else")

    pinned = verify(built.pdf, ledger_pub.read_text(), [operator_cert[0].read_bytes()])
    wrong = verify(built.pdf, ledger_pub.read_text(), [(tmp_path / "someone.crt").read_bytes()])

    assert pinned.ok and ", trusted" in pinned.text()
    assert wrong.failures == [
        "PDF signature: signer Organization: Demo, Common Name: Audit Operator (test) "
        "does not chain to a certificate given with --trust"
    ]
