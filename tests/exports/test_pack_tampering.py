"""Each way of lying with a pack is caught, and named by its own message."""

from __future__ import annotations

import base64
import copy
import io
import json
import re

import pytest

from exports.pack.build import assemble
from exports.pack.evidence import attachment_files
from exports.signing import load_pack_signer
from exports.verifier import verify
from ledger import merkle
from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint
from ledger.note import Signer
from ledger.proofs import inclusion_proof

from .conftest import review

# The shared pack is built in the test database, so the database must be set up even for tests
# that only read the pack.
pytestmark = pytest.mark.django_db


def resign(built, signer, summary=None, files=None):
    """Render the pack again from (altered) parts and sign it, as a forger with the tooling would."""
    return assemble(
        built.scope,
        built.content,
        built.evidence,
        signer,
        "alice",
        built.evidence.checkpoint.signed_at,
        summary=summary or built.summary,
        files=files or built.files,
    ).pdf


def failures(pdf, ledger_pub):
    report = verify(pdf, ledger_pub.read_text())
    assert not report.ok
    return report.failures


def signature_offsets(pdf: bytes) -> tuple[int, int]:
    """Start and end of the signature value (/Contents <hex>), the bytes a signature cannot cover."""
    ranges = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert ranges
    return int(ranges.group(2)), int(ranges.group(3))


@pytest.mark.parametrize("where", ["first quarter", "middle", "attachments", "signature value", "last bytes"])
def test_it_rejects_a_byte_changed_anywhere(shared, where):
    built, ledger_pub = shared
    pdf = bytearray(built.pdf)
    sig_start, sig_end = signature_offsets(built.pdf)
    offset = {
        "first quarter": len(pdf) // 4,
        "middle": len(pdf) // 2,
        "attachments": built.pdf.index(b"/EmbeddedFile") + 40,
        "signature value": (sig_start + sig_end) // 2,
        "last bytes": len(pdf) - 20,
    }[where]
    pdf[offset] ^= 0x01

    problems = failures(bytes(pdf), ledger_pub)

    assert problems[0].startswith("PDF signature:"), problems


def test_it_names_content_changed_after_signing(shared):
    built, ledger_pub = shared
    pdf = bytearray(built.pdf)
    pdf[len(pdf) // 2] ^= 0x01

    assert "PDF signature: the signed bytes were changed after signing (digest mismatch)" in failures(
        bytes(pdf), ledger_pub
    )


def test_it_rejects_an_altered_entry_resigned_with_another_key(shared, other_cert):
    built, ledger_pub = shared
    forger = load_pack_signer(str(other_cert), "", "", "")
    lines = [json.loads(line) for line in built.files["entries.jsonl"].decode().splitlines()]
    victim = lines[2]
    envelope = json.loads(base64.b64decode(victim["payload"]))
    envelope["data"]["state"] = "CHANGES_REQUESTED"  # what really happened, hidden by the forger
    payload = json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
    victim["payload"] = base64.b64encode(payload).decode()
    victim["leaf_hash"] = merkle.leaf_hash(payload).hex()  # a careful forger fixes the stated hash too
    files = dict(built.files)
    files["entries.jsonl"] = "".join(json.dumps(line) + "\n" for line in lines).encode()

    problems = failures(resign(built, forger, files=files), ledger_pub)

    assert not any(p.startswith("PDF signature:") for p in problems)  # the forger's signature itself is fine
    assert f"entry seq {victim['seq']}: not included in the checkpoint" in "\n".join(problems)
    assert any(p.startswith("summary figure 'signer.certificate_sha256'") for p in problems)


def test_it_rejects_an_altered_entry_whose_stated_hash_was_left_alone(shared, operator_signer):
    built, ledger_pub = shared
    lines = built.files["entries.jsonl"].decode().splitlines()
    first = json.loads(lines[0])
    first["payload"] = base64.b64encode(base64.b64decode(first["payload"]).replace(b"APPROVED", b"DISMISSED")).decode()
    files = dict(built.files)
    files["entries.jsonl"] = "\n".join([json.dumps(first), *lines[1:]]).encode() + b"\n"

    problems = failures(resign(built, operator_signer, files=files), ledger_pub)

    altered = f"entry seq {first['seq']}: its payload does not hash to its stated leaf hash (the entry was altered)"
    assert altered in problems


def later_proofs(built) -> tuple[dict, int]:
    """Proofs of the same entries against a later, also genuine, checkpoint."""
    append_entries([review(n, day=1) for n in range(50, 53)])
    later = sign_checkpoint()
    assert later.size > built.evidence.checkpoint.size
    proofs = [
        {
            "seq": seq,
            "tree_size": later.size,
            "path": [base64.b64encode(p).decode() for p in inclusion_proof(seq, later.size).path],
        }
        for seq in sorted(built.evidence.proofs)
    ]
    return {"checkpoint_size": later.size, "proofs": proofs}, later.size


def test_it_rejects_proofs_for_another_checkpoint(built, ledger_pub, operator_signer):
    proofs, later_size = later_proofs(built)
    files = dict(built.files, **{"proofs.json": json.dumps(proofs).encode()})

    problems = failures(resign(built, operator_signer, files=files), ledger_pub)

    size = built.evidence.checkpoint.size
    expected = f"entry seq 0: inclusion proof is for tree size {later_size}, not the pack's checkpoint (size {size})"
    assert expected in problems


def test_it_rejects_proofs_for_another_checkpoint_relabelled(built, ledger_pub, operator_signer):
    proofs, _ = later_proofs(built)
    size = built.evidence.checkpoint.size
    for proof in proofs["proofs"]:
        proof["tree_size"] = size  # claims the pack's checkpoint, but the path leads elsewhere
    files = dict(built.files, **{"proofs.json": json.dumps(proofs).encode()})

    problems = failures(resign(built, operator_signer, files=files), ledger_pub)

    assert any(p.startswith(f"entry seq 0: not included in the checkpoint of size {size}") for p in problems)


def test_it_rejects_a_wrong_ledger_key(shared, tmp_path):
    built, _ = shared
    impostor = tmp_path / "impostor.pub"
    impostor.write_text(Signer.generate("test.ledger/log").verifier().encode())

    problems = failures(built.pdf, impostor)

    expected = "checkpoint: the signed note does not verify with the given ledger key (no signature by a known key)"
    assert expected in problems
    assert any(p.startswith("ledger key: the pack was made for key test.ledger/log+") for p in problems)
    assert not any(p.startswith(("PDF signature:", "entry seq")) for p in problems)


def test_it_rejects_a_changed_summary_figure(shared, operator_signer):
    built, ledger_pub = shared
    summary = copy.deepcopy(built.summary)
    summary["figures"]["entries.by_kind"]["github.review"] = 6  # the PDF now says 6 approvals-worth of reviews
    findings = [f.as_json() for f in built.content.findings]
    files = attachment_files(built.evidence, summary, findings)

    problems = failures(resign(built, operator_signer, summary=summary, files=files), ledger_pub)

    assert problems == [
        "summary figure 'entries.by_kind': the pack states {'argocd.deployment': 3, 'github.review': 6}, "
        "the evidence gives {'argocd.deployment': 3, 'github.review': 5}"
    ]


def test_it_rejects_a_figure_without_a_recipe(shared, operator_signer):
    built, ledger_pub = shared
    summary = copy.deepcopy(built.summary)
    summary["figures"]["deployments.compliant_percent"] = "100"
    files = attachment_files(built.evidence, summary, [])

    problems = failures(resign(built, operator_signer, summary=summary, files=files), ledger_pub)

    assert problems == [
        "summary figure 'deployments.compliant_percent' has no recipe the verifier knows, so it cannot be checked"
    ]


def test_it_rejects_entries_outside_the_stated_scope(shared, operator_signer):
    built, ledger_pub = shared
    summary = copy.deepcopy(built.summary)
    summary["scope"]["kinds"] = ["github.review"]  # claims a reviews-only pack, yet carries deployments
    files = attachment_files(built.evidence, summary, [])

    problems = failures(resign(built, operator_signer, summary=summary, files=files), ledger_pub)

    deployments = sorted(s for s, e in built.evidence.envelopes().items() if e["kind"] == "argocd.deployment")
    assert problems == [f"scope: entries {deployments} are not selected by the pack's stated scope"]


def test_it_rejects_an_update_appended_after_signing(shared):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    built, ledger_pub = shared
    writer = IncrementalPdfFileWriter(io.BytesIO(built.pdf))
    writer.root["/Lang"] = generic.TextStringObject("fr")  # harmless-looking, but not what was signed
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)

    problems = failures(out.getvalue(), ledger_pub)

    assert problems == [
        "PDF signature: does not cover the whole file (coverage ENTIRE_REVISION); bytes were added after signing"
    ]


def test_it_names_a_missing_attachment(shared, operator_signer):
    built, ledger_pub = shared
    files = {name: data for name, data in built.files.items() if name != "proofs.json"}

    problems = failures(resign(built, operator_signer, files=files), ledger_pub)

    assert problems == ["attachments: the pack lacks proofs.json"]


def test_it_names_malformed_evidence_without_crashing(shared, operator_signer):
    built, ledger_pub = shared
    files = dict(built.files, **{"proofs.json": b"{not json"})

    problems = failures(resign(built, operator_signer, files=files), ledger_pub)

    assert len(problems) == 1 and problems[0].startswith("evidence: malformed attachment content (JSONDecodeError")
