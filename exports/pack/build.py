"""build_pack: scope -> provider content -> evidence -> HTML -> PDF/A-3b -> PAdES signature.

record_pack then makes the pack itself a ledger entry (who, scope, SHA-256 of the PDF).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evidence.core.digests import sha256_hex
from ledger.append import append_entry
from ledger.envelope import Record

from .. import figures
from ..errors import PackError
from ..signing import PackSigner, load_pack_signer, sign_pdf
from .content import PackContent
from .evidence import Evidence, attachment_files, collect_evidence, signed_checkpoint
from .providers import get_provider
from .render import render_html, render_pdf
from .scope import Scope

PACK_KIND = "export.audit_pack"
ATTESTED = {"checkpoint", "ledger_key", "signer"}  # figure groups the verifier takes from signatures, not entries


@dataclass
class BuiltPack:
    pdf: bytes
    sha256: str
    pages: int
    scope: Scope
    content: PackContent
    evidence: Evidence
    summary: dict[str, Any]
    files: dict[str, bytes]


def make_summary(
    scope: Scope, content: PackContent, evidence: Evidence, signer: PackSigner, generated_by: str, when: datetime
) -> dict[str, Any]:
    """summary.json: every figure the PDF states, and the inputs the verifier needs to recompute them."""
    stated = dict(content.summary)
    stated.update(figures.count_figures(evidence.envelopes(), content.counts))
    stated.update(
        {
            "entries.total": len(evidence.entries),  # the cover states it for every kind of pack
            "checkpoint.origin": _origin(evidence),
            "checkpoint.size": evidence.checkpoint.size,
            "checkpoint.root": evidence.root_b64,
            "ledger_key.fingerprint": evidence.ledger_key_fingerprint,
            "signer.certificate_sha256": signer.certificate_sha256,
        }
    )
    out = {
        "format": figures.FORMAT,
        "title": content.title,
        "scope": scope.to_json(),
        "scope_description": content.scope_description,
        "period": content.period,
        "generated_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generated_by": generated_by,
        "counts": content.counts,
        "sample": content.sample.as_json() if content.sample else None,
        "figures": dict(sorted(stated.items())),
    }
    if content.dora is not None:
        out["dora"] = content.dora
    return out


def _origin(evidence: Evidence) -> str:
    """The origin line of the signed checkpoint note (C2SP tlog-checkpoint: its first line)."""
    return str(evidence.checkpoint.note).split("\n", 1)[0]


def check_figures(
    summary: dict[str, Any], evidence: Evidence, findings: list[dict[str, Any]], dora_samples: bytes | None = None
) -> None:
    """Refuse to sign a pack whose stated figures the verifier would not reproduce (a provider bug)."""
    attested = {name: summary["figures"][name] for name in summary["figures"] if name.split(".")[0] in ATTESTED}
    rows = figures.dora_rows(dora_samples) if dora_samples is not None else None
    computed = figures.compute_figures(
        evidence.envelopes(), findings, summary["counts"], summary["sample"], attested, summary.get("dora"), rows
    )
    problems = figures.compare_figures(summary["figures"], computed)
    if problems:
        raise PackError("content provider: " + "; ".join(problems[:3]))


def assemble(
    scope: Scope,
    content: PackContent,
    evidence: Evidence,
    signer: PackSigner,
    generated_by: str,
    when: datetime,
    summary: dict[str, Any] | None = None,
    files: dict[str, bytes] | None = None,
) -> BuiltPack:
    """Render and sign. `summary`/`files` default to the honest ones (tests pass altered ones)."""
    findings = [f.as_json() for f in content.findings]
    if summary is None:
        summary = make_summary(scope, content, evidence, signer, generated_by, when)
        check_figures(summary, evidence, findings, content.attachments.get(figures.DORA_SAMPLES))
    if files is None:
        files = attachment_files(evidence, summary, findings)
        clash = sorted(set(files) & set(content.attachments))
        if clash:
            raise PackError(f"content provider: attachment(s) {clash} would replace the pack's evidence")
        files.update(content.attachments)
    html = render_html(content, evidence, summary, sorted(files), signer.subject)
    pdf, pages = render_pdf(html, files, when)
    signed = sign_pdf(pdf, signer)
    return BuiltPack(signed, sha256_hex(signed), pages, scope, content, evidence, summary, files)


def build_pack(scope: Scope, generated_by: str, signer: PackSigner | None = None) -> BuiltPack:
    """Build and sign a pack for the scope; raises ScopeError or PackError with a clear message."""
    signer = signer or load_pack_signer()  # fail on a missing certificate before any work
    checkpoint = signed_checkpoint()
    content = get_provider(scope.type).build(scope, checkpoint.size)
    stray = sorted({s for f in content.findings for s in f.seqs} - set(content.seqs))
    if stray:
        raise PackError(f"content provider: findings cite entries {stray[:5]} that the pack does not embed")
    evidence = collect_evidence(content.seqs, checkpoint)
    return assemble(scope, content, evidence, signer, generated_by, datetime.now(UTC))


def record_pack(built: BuiltPack, generated_by: str, pack_id: int | None = None) -> int | None:
    """The pack as a ledger entry; idempotent on the PDF's hash. Returns its seq once sequenced."""
    data = {
        "requested_by": generated_by,
        "scope": built.scope.to_json(),
        "sha256": built.sha256,
        "bytes": len(built.pdf),
        "pages": built.pages,
        "entries": len(built.evidence.entries),
        "checkpoint_size": built.evidence.checkpoint.size,
        "signer_certificate_sha256": built.summary["figures"]["signer.certificate_sha256"],
    }
    if pack_id is not None:
        data["pack_id"] = pack_id
    record = Record(
        kind=PACK_KIND,
        source="exports",
        subject=f"audit-pack:{built.sha256}",
        idempotency_key=f"exports:audit_pack:{built.sha256}",
        data=data,
    )
    return append_entry(record).seq
