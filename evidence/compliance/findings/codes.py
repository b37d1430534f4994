"""The finding catalogue: stable codes, severities, titles and the controls each bears on.

Codes are part of the API and of audit packs (figures count them): rename none, only add.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANGE_CONTROLS = [
    "SOC 2 CC8.1",
    "ISO/IEC 27001:2022 A.8.32",
    "PCI DSS v4.0 6.5",
    "SOX ITGC change management",
]


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    title: str


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("no_pull_request", "high", "No pull request: a direct push or an unknown commit"),
        Code("insufficient_approvals", "high", "Merged without the required approvals"),
        Code("self_approved", "high", "Approved only by its author"),
        Code("stale_approval", "medium", "Approval given on an older head; commits came after it"),
        Code("protection_off", "high", "Branch protection off at merge time"),
        Code("protection_weaker_than_policy", "medium", "Branch protection weaker than policy at merge time"),
        Code("protection_bypassed", "high", "Branch protection bypassed at merge time"),
        Code("image_unsigned", "high", "Image not signed"),
        Code("signature_invalid", "high", "Image signature invalid"),
        Code("signer_untrusted", "high", "Image signed by an untrusted key or identity"),
        Code("no_provenance", "medium", "No verified build provenance"),
        Code("provenance_commit_mismatch", "high", "Provenance names another commit or repository"),
        Code("builder_untrusted", "high", "Built by an untrusted builder"),
        Code("drift", "high", "Running digest not produced by the recorded deployment"),
        Code("manual_sync", "medium", "Synced by hand rather than by the controller following Git"),
        Code("evidence_gap", "medium", "Evidence gap: a source was not observed when it mattered"),
    )
}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
