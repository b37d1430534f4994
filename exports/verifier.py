#!/usr/bin/env python3
"""Verify a signed audit pack offline: python3 verify_pack.py PACK.pdf --ledger-key KEYFILE

Standalone: standard library, `cryptography` and `pyhanko` only; no Django, no database. Inside
the project it is `exports.verifier` (and `manage.py verify_pack`); inside a pack it is the
attachment verify_pack.py, with the ledger's merkle.py and note.py and the pack's figures.py as
sibling attachments, which it imports from its own folder.

Checks, in order, all of them even after a failure (so the report names every problem):
 1. the PDF signature: intact, cryptographically valid, covering the whole file;
 2. the attachments the pack needs are there;
 3. the checkpoint's signed note opens with the ledger key given on the command line, and its
    RFC 3161 token (checkpoint.tsr, when the ledger had a TSA) is over that note and signed by the
    TSA (the certificate given with --tsa-cert, else the one the token carries);
 4. every entry's leaf hash, recomputed from its exact stored bytes, and its inclusion proof
    against that one checkpoint;
 5. every figure in summary.json, recomputed from the embedded evidence (figures.py); the DORA
    figures (dora.*) from the samples in dora-samples.csv, each citing entries the pack carries.
Exit 0 with a short report; 1 when a check failed, naming each; 2 when it could not start.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import io
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__:  # imported as exports.verifier inside the project
    from ledger import merkle, note, timestamp

    from . import figures
else:  # run as a script extracted from a pack: its helpers are sibling attachments
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import figures  # type: ignore[no-redef]
    import merkle  # type: ignore[no-redef]
    import note  # type: ignore[no-redef]
    import timestamp  # type: ignore[no-redef]

# Attachment names; the builder writes exactly these.
ENTRIES = "entries.jsonl"
PROOFS = "proofs.json"
CHECKPOINT = "checkpoint.note"
LEDGER_KEY = "ledger-key.pub"
SUMMARY = "summary.json"
FINDINGS = "findings.json"
SCRIPT = "verify_pack.py"
TIMESTAMP = "checkpoint.tsr"  # optional: the checkpoint's RFC 3161 token (DER), verified by timestamp.py
HELPERS = ("merkle.py", "note.py", "figures.py", "timestamp.py")  # timestamp.py: packs made since tokens
REQUIRED = (ENTRIES, PROOFS, CHECKPOINT, LEDGER_KEY, SUMMARY, FINDINGS, SCRIPT, *HELPERS[:3])


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def text(self, limit: int = 25) -> str:
        """The report for a person: at most `limit` failures spelled out (a bad checkpoint fails every proof)."""
        head = "pack OK" if self.ok else f"pack FAILED verification ({len(self.failures)} problem(s))"
        shown = [f"  FAIL {f}" for f in self.failures[:limit]]
        if len(self.failures) > limit:
            shown.append(f"  FAIL ... and {len(self.failures) - limit} more")
        return "\n".join([head, *shown, *(f"  ok   {n}" for n in self.notes)])


# --- 1. The PDF signature --------------------------------------------------------------------


@dataclass
class SignatureFacts:
    certificate_sha256: str
    subject: str
    trusted: bool


def check_signature(pdf: bytes, report: Report, trust: list[bytes]) -> SignatureFacts | None:
    """PAdES/CMS signature: intact, valid, covering every byte of the file."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    # pyHanko logs a traceback for every untrusted chain; the report below says it in one line.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # any parse failure means the file is not the signed pack
        report.fail(f"PDF signature: the file is not a readable PDF ({type(exc).__name__}: {exc})")
        return None
    if not signatures:
        report.fail("PDF signature: the file carries no signature")
        return None
    if len(signatures) > 1:
        report.fail(f"PDF signature: expected one signature, found {len(signatures)}")
    embedded = signatures[-1]
    roots = []
    if trust:
        from asn1crypto import pem as asn1_pem
        from asn1crypto import x509 as asn1_x509

        for blob in trust:
            der = asn1_pem.unarmor(blob)[2] if asn1_pem.detect(blob) else blob
            roots.append(asn1_x509.Certificate.load(der))
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(embedded, context)
    except Exception as exc:  # a mangled /Contents or /ByteRange cannot even be evaluated
        report.fail(f"PDF signature: cannot be evaluated ({type(exc).__name__}: {exc})")
        return None
    if not status.intact:
        report.fail("PDF signature: the signed bytes were changed after signing (digest mismatch)")
    if not status.valid:
        report.fail("PDF signature: the cryptographic signature does not verify")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        level = status.coverage.name if status.coverage else "unknown"
        report.fail(f"PDF signature: does not cover the whole file (coverage {level}); bytes were added after signing")
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        report.fail("PDF signature: its RFC 3161 timestamp token does not verify")
    elif stamp is not None:
        tsa = stamp.signing_cert.subject.human_friendly
        trust_word = "trusted" if stamp.trusted else "TSA not trusted (pass its certificate with --trust)"
        report.notes.append(f"RFC 3161 timestamp {stamp.timestamp.isoformat()} by {tsa}, valid, {trust_word}")
    cert = status.signing_cert
    facts = SignatureFacts(hashlib.sha256(cert.dump()).hexdigest(), cert.subject.human_friendly, bool(status.trusted))
    if trust and not facts.trusted:
        report.fail(f"PDF signature: signer {facts.subject} does not chain to a certificate given with --trust")
    if status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        trust_word = "trusted" if facts.trusted else "NOT trusted (self-signed or unknown CA: compare the fingerprint)"
        report.notes.append(
            f"PDF signature valid and covering the whole file; signer {facts.subject}, "
            f"certificate SHA-256 {facts.certificate_sha256}, {trust_word}"
        )
    return facts


# --- 2. Attachments --------------------------------------------------------------------------


def read_attachments(pdf: bytes) -> dict[str, bytes]:
    """Embedded files by name, from the document's EmbeddedFiles name tree."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    root = reader.root
    out: dict[str, bytes] = {}
    if "/Names" not in root or "/EmbeddedFiles" not in root["/Names"]:
        return out
    stack = [root["/Names"]["/EmbeddedFiles"]]
    while stack:
        node = stack.pop()
        for kid in node.get("/Kids", []):
            stack.append(kid.get_object())
        names = node.get("/Names", [])
        for i in range(0, len(names) - 1, 2):
            spec = names[i + 1].get_object()
            name = str(spec.get("/UF") or spec.get("/F") or names[i])
            out[name] = spec["/EF"]["/F"].get_object().data
    return out


# --- 3-5. Evidence -----------------------------------------------------------------------------


class UsageError(ValueError):
    """The verifier cannot start: a bad key file or argument (exit 2, not a verdict on the pack)."""


def parse_ledger_key(text: str) -> list[note.Verifier]:
    """The ledger's verifier keys, one a line (a rotated log publishes every key it signed with)."""
    try:
        return note.parse_verifiers(text)
    except note.NoteError as exc:
        raise UsageError(f"--ledger-key: {exc}") from None


def _json(attachments: Mapping[str, bytes], name: str) -> Any:
    return json.loads(attachments[name].decode("utf-8"))


def check_timestamp(attachments: Mapping[str, bytes], note_text: str, tsa_cert: bytes | None, report: Report) -> None:
    """The checkpoint's RFC 3161 token, if the pack carries one: over this very note, signed by the TSA."""
    token = attachments.get(TIMESTAMP)
    if token is None:
        report.notes.append("checkpoint not timestamped (the pack carries no RFC 3161 token)")
        return
    try:
        stamp = timestamp.verify_token(token, note_text, tsa_cert)
    except timestamp.TimestampError as exc:
        report.fail(f"checkpoint timestamp: {exc}")
        return
    pinned = "the TSA certificate given" if tsa_cert else "the certificate it carries (compare the fingerprint)"
    report.notes.append(
        f"checkpoint timestamped {stamp.gen_time.isoformat()} by {stamp.tsa} (RFC 3161), signed by {pinned}, "
        f"certificate SHA-256 {stamp.certificate_sha256}"
    )


def check_evidence(
    attachments: Mapping[str, bytes], ledger_key: str, report: Report, tsa_cert: bytes | None = None
) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """Checkpoint, entries, proofs; returns the attested figures (checkpoint, key) and the envelopes by seq."""
    attested: dict[str, Any] = {}
    verifiers = parse_ledger_key(ledger_key)
    embedded_key = attachments[LEDGER_KEY].decode().strip()
    verifier = next((v for v in verifiers if v.encode() == embedded_key), verifiers[0])
    attested["ledger_key.fingerprint"] = verifier.fingerprint()
    if embedded_key != verifier.encode():
        embedded_name = "+".join(embedded_key.split("+")[:2])
        report.fail(
            f"ledger key: the pack was made for key {embedded_name}, "
            f"not the given key {verifier.name}+{verifier.key_id.hex()}"
        )
    note_text = attachments[CHECKPOINT].decode()
    try:
        checkpoint = note.verify_checkpoint(note_text, verifier)
        report.notes.append(
            f"checkpoint {checkpoint.origin} size {checkpoint.size} signed by {verifier.name}+{verifier.key_id.hex()}"
        )
    except note.NoteError as exc:
        report.fail(f"checkpoint: the signed note does not verify with the given ledger key ({exc})")
        try:  # carry on with the unverified body so the report can name further problems
            checkpoint = note.Checkpoint.parse(note_text.rpartition("\n\n")[0] + "\n")
        except note.NoteError as exc2:
            report.fail(f"checkpoint: unreadable ({exc2})")
            return attested, {}
    attested.update(
        {
            "checkpoint.origin": checkpoint.origin,
            "checkpoint.size": checkpoint.size,
            "checkpoint.root": base64.b64encode(checkpoint.root).decode(),
        }
    )
    check_timestamp(attachments, note_text, tsa_cert, report)
    return attested, check_entries(attachments, checkpoint, report)


def check_entries(
    attachments: Mapping[str, bytes], checkpoint: note.Checkpoint, report: Report
) -> dict[int, dict[str, Any]]:
    proofs_doc = _json(attachments, PROOFS)
    proofs = {int(p["seq"]): p for p in proofs_doc["proofs"]}
    envelopes: dict[int, dict[str, Any]] = {}
    bad_leaves = bad_proofs = 0
    for number, line in enumerate(attachments[ENTRIES].decode().splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        seq = int(item["seq"])
        if seq in envelopes:
            report.fail(f"entry seq {seq}: listed twice in {ENTRIES}")
            continue
        try:
            payload = base64.b64decode(item["payload"], validate=True)
        except binascii.Error:
            report.fail(f"entry seq {seq} ({ENTRIES} line {number}): payload is not base64")
            continue
        leaf = merkle.leaf_hash(payload)
        if leaf.hex() != item["leaf_hash"]:
            bad_leaves += 1
            report.fail(f"entry seq {seq}: its payload does not hash to its stated leaf hash (the entry was altered)")
        envelope = json.loads(payload)
        envelopes[seq] = envelope
        if (item.get("kind"), item.get("subject")) != (envelope.get("kind"), envelope.get("subject")):
            report.fail(f"entry seq {seq}: the kind or subject listed beside it differs from its payload's")
        proof = proofs.get(seq)
        if proof is None:
            bad_proofs += 1
            report.fail(f"entry seq {seq}: no inclusion proof in {PROOFS}")
            continue
        if int(proof["tree_size"]) != checkpoint.size:
            bad_proofs += 1
            report.fail(
                f"entry seq {seq}: inclusion proof is for tree size {proof['tree_size']}, "
                f"not the pack's checkpoint (size {checkpoint.size})"
            )
            continue
        path = [base64.b64decode(p) for p in proof["path"]]
        try:
            merkle.verify_inclusion(seq, checkpoint.size, leaf, path, checkpoint.root)
        except merkle.ProofError as exc:
            bad_proofs += 1
            report.fail(f"entry seq {seq}: not included in the checkpoint of size {checkpoint.size} ({exc})")
    extra = sorted(set(proofs) - set(envelopes))
    if extra:
        report.fail(f"{PROOFS}: proofs for entries the pack does not carry: {extra[:5]}")
    if not bad_leaves and not bad_proofs:
        report.notes.append(
            f"{len(envelopes)} entries: leaf hashes recomputed from the stored bytes, "
            f"each proven included in the checkpoint of size {checkpoint.size}"
        )
    return envelopes


def check_summary(
    attachments: Mapping[str, bytes],
    attested: dict[str, Any],
    envelopes: dict[int, dict[str, Any]],
    signer: SignatureFacts | None,
    report: Report,
) -> None:
    summary = _json(attachments, SUMMARY)
    findings = _json(attachments, FINDINGS)
    if summary.get("format") != figures.FORMAT:
        report.fail(f"{SUMMARY}: format {summary.get('format')!r} is not {figures.FORMAT!r}")
        return
    if signer is not None:
        attested["signer.certificate_sha256"] = signer.certificate_sha256
    for finding in findings:
        missing = sorted(set(finding.get("seqs", [])) - set(envelopes))
        if missing:
            report.fail(f"finding {finding.get('code')}: cites entries the pack does not carry: {missing[:5]}")
    sample = summary.get("sample")
    if sample:
        outside = sorted(set(sample["population"]) - set(envelopes))
        if outside:
            report.fail(f"sample: population lists entries the pack does not carry: {outside[:5]}")
    scope = summary.get("scope") or {}
    if scope.get("type") == "entries":
        stray = figures.outside_entries_scope(scope, envelopes)
        if stray:
            report.fail(f"scope: entries {stray[:5]} are not selected by the pack's stated scope")
        if sample and sorted(sample["population"]) != sorted(envelopes):
            report.fail("sample: the population is not every entry in the pack's scope")
    dora, dora_samples = summary.get("dora"), None
    if dora is not None:
        if figures.DORA_SAMPLES not in attachments:
            report.fail(f"attachments: the pack states DORA figures but lacks {figures.DORA_SAMPLES}")
        else:
            dora_samples = figures.dora_rows(attachments[figures.DORA_SAMPLES])
            for row in dora_samples:
                missing = sorted(set(row["entry_seqs"]) - set(envelopes))
                if missing:
                    report.fail(
                        f"DORA sample {row['metric']} {row['subject']} at {row['at']}: cites entries the pack "
                        f"does not carry: {missing[:5]}"
                    )
    computed = figures.compute_figures(
        envelopes, findings, summary.get("counts", {}), sample, attested, dora, dora_samples
    )
    problems = figures.compare_figures(summary["figures"], computed)
    for problem in problems:
        report.fail(problem)
    if not problems:
        report.notes.append(f"{len(summary['figures'])} summary figures recomputed from the evidence and matching")


def verify(pdf: bytes, ledger_key: str, trust: list[bytes] | None = None, tsa_cert: bytes | None = None) -> Report:
    parse_ledger_key(ledger_key)  # a bad key file stops here, before any verdict
    report = Report()
    signer = check_signature(pdf, report, trust or [])
    try:
        attachments = read_attachments(pdf)
    except Exception as exc:  # unreadable structure: the signature check has already said why
        report.fail(f"attachments: cannot be read ({type(exc).__name__}: {exc})")
        return report
    missing = [name for name in REQUIRED if name not in attachments]
    if missing:
        report.fail(f"attachments: the pack lacks {', '.join(missing)}")
        return report
    try:
        attested, envelopes = check_evidence(attachments, ledger_key, report, tsa_cert)
        check_summary(attachments, attested, envelopes, signer, report)
    except (ValueError, KeyError, TypeError) as exc:  # malformed JSON or fields: name it, do not crash
        report.fail(f"evidence: malformed attachment content ({type(exc).__name__}: {exc})")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a signed audit pack offline.")
    parser.add_argument("pdf", type=Path, help="the audit pack (PDF)")
    parser.add_argument("--ledger-key", type=Path, required=True, help="the ledger's verifier key (C2SP note key)")
    parser.add_argument("--trust", type=Path, action="append", default=[], help="a CA or signer certificate to trust")
    parser.add_argument(
        "--tsa-cert", type=Path, help="the TSA certificate the checkpoint's timestamp must be signed by"
    )
    parser.add_argument("--extract", type=Path, help="also write the attachments into this folder")
    args = parser.parse_args(argv)
    try:
        pdf = args.pdf.read_bytes()
        key = args.ledger_key.read_text()
        trust = [p.read_bytes() for p in args.trust]
        tsa_cert = args.tsa_cert.read_bytes() if args.tsa_cert else None
    except OSError as exc:
        print(f"verify_pack: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.extract:
        args.extract.mkdir(parents=True, exist_ok=True)
        for name, data in read_attachments(pdf).items():
            (args.extract / Path(name).name).write_bytes(data)
    try:
        report = verify(pdf, key, trust, tsa_cert)
    except UsageError as exc:
        print(f"verify_pack: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
