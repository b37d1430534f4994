"""The finding catalogue: stable codes, severities, titles and the requirements each bears on.

Codes are part of the API and of audit packs (figures count them): rename none, only add.

Each code names the specific requirements it is evidence against, in four frameworks (the
editions are fixed; docs/custody.md gives the table and why each mapping holds):
SOC 2: AICPA Trust Services Criteria (2017, points of focus revised 2022);
ISO/IEC 27001:2022 Annex A; PCI DSS v4.0 (requirement numbers); SOX: the IT general
control "change management" (program changes) as auditors test it under PCAOB AS 2201.
"""

from __future__ import annotations

from dataclasses import dataclass

SOC2 = "SOC 2"
ISO = "ISO/IEC 27001:2022"
PCI = "PCI DSS v4.0"
SOX = "SOX ITGC change management"
REQUIREMENTS = {
    f"{SOC2} CC6.1": "logical access security over protected assets (who may change or sign)",
    f"{SOC2} CC7.1": "detection of configuration changes and of unauthorised components",
    f"{SOC2} CC7.2": "monitoring of system components, including the monitoring itself",
    f"{SOC2} CC8.1": "changes are authorised, designed, tested, approved and implemented",
    f"{ISO} A.5.3": "segregation of duties",
    f"{ISO} A.8.9": "configuration management",
    f"{ISO} A.8.15": "logging",
    f"{ISO} A.8.16": "monitoring activities",
    f"{ISO} A.8.25": "secure development life cycle",
    f"{ISO} A.8.32": "change management",
    f"{PCI} 6.5.1": "changes follow procedures: reason, impact, approval by authorised parties, testing",
    f"{PCI} 6.5.2": "after a significant change, the applicable requirements are confirmed in place",
    f"{PCI} 6.5.4": "roles separated so that only reviewed and approved changes are deployed",
    f"{PCI} 10.7.2": "failures of critical security control systems (audit logging) are detected",
    f"{PCI} 11.5.2": "a change-detection mechanism alerts on unauthorised modification",
    SOX: "program changes are authorised, tested, approved and migrated by someone else",
}
# Kept for callers of the old single list: the requirements every change finding used to name.
CHANGE_CONTROLS = [f"{SOC2} CC8.1", f"{ISO} A.8.32", f"{PCI} 6.5.1", SOX]


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    title: str
    controls: tuple[str, ...] = ()


def _code(code: str, severity: str, title: str, *controls: str) -> Code:
    unknown = [c for c in controls if c not in REQUIREMENTS]
    if unknown:
        raise ValueError(f"{code}: unknown requirement(s) {unknown}")
    return Code(code, severity, title, tuple(controls))


_C = (
    _code(
        "no_pull_request",
        "high",
        "No pull request: a direct push or an unknown commit",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "insufficient_approvals",
        "high",
        "Merged without the required approvals",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "self_approved",
        "high",
        "Approved only by its author",
        f"{SOC2} CC8.1",
        f"{ISO} A.5.3",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "stale_approval",
        "medium",
        "Approval given on an older head; commits came after it",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "protection_off",
        "high",
        "Branch protection off at merge time",
        f"{SOC2} CC6.1",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.9",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "protection_weaker_than_policy",
        "medium",
        "Branch protection weaker than policy at merge time",
        f"{SOC2} CC6.1",
        f"{ISO} A.8.9",
        f"{PCI} 6.5.2",
        SOX,
    ),
    _code(
        "protection_bypassed",
        "high",
        "Branch protection bypassed at merge time",
        f"{SOC2} CC6.1",
        f"{SOC2} CC8.1",
        f"{ISO} A.5.3",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "image_unsigned",
        "high",
        "Image not signed",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.25",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "signature_invalid",
        "high",
        "Image signature invalid",
        f"{SOC2} CC7.2",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.25",
        f"{PCI} 11.5.2",
        SOX,
    ),
    _code(
        "signer_untrusted",
        "high",
        "Image signed by an untrusted key or identity",
        f"{SOC2} CC6.1",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.25",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "no_provenance",
        "medium",
        "No verified build provenance",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.25",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "provenance_commit_mismatch",
        "high",
        "Provenance names another commit or repository",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.25",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "builder_untrusted",
        "high",
        "Built by an untrusted builder",
        f"{SOC2} CC6.1",
        f"{ISO} A.8.25",
        f"{PCI} 6.5.1",
    ),
    _code(
        "drift",
        "high",
        "Running digest not produced by the recorded deployment",
        f"{SOC2} CC7.1",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.9",
        f"{ISO} A.8.16",
        f"{PCI} 11.5.2",
        SOX,
    ),
    _code(
        "manual_sync",
        "medium",
        "Synced by hand rather than by the controller following Git",
        f"{SOC2} CC8.1",
        f"{ISO} A.5.3",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "intermediate_commit_deployed",
        "high",
        "Deployed a commit of a pull request that is not what it merged as (not the reviewed result)",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "deployed_before_merge",
        "high",
        "Deployed before its pull request was merged",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "not_on_protected_branch",
        "high",
        "Deployed a commit the protected branch never was at",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "direct_push_under_merge",
        "high",
        "A direct push to the protected branch shipped under a later reviewed merge",
        f"{SOC2} CC6.1",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "author_merged_own_change",
        "medium",
        "Segregation of duties: the author merged their own change",
        f"{SOC2} CC8.1",
        f"{ISO} A.5.3",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "author_deployed_own_change",
        "medium",
        "Segregation of duties: the author synced their own change to the environment by hand",
        f"{SOC2} CC8.1",
        f"{ISO} A.5.3",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "approver_committed",
        "high",
        "Segregation of duties: an approver authored or pushed a commit of the change",
        f"{SOC2} CC8.1",
        f"{ISO} A.5.3",
        f"{PCI} 6.5.4",
        SOX,
    ),
    _code(
        "emergency_change",
        "medium",
        "Emergency change: deployed without prior approval (by hand, or approved only after the fact)",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
    _code(
        "evidence_gap",
        "medium",
        "Evidence gap: a source was not observed when it mattered",
        f"{SOC2} CC7.2",
        f"{ISO} A.8.15",
        f"{ISO} A.8.16",
        f"{PCI} 10.7.2",
    ),
    _code(
        "evidence_recorded_late",
        "medium",
        "Evidence recorded only after the deployment it would vouch for",
        f"{SOC2} CC7.2",
        f"{SOC2} CC8.1",
        f"{ISO} A.8.15",
        f"{ISO} A.8.32",
        f"{PCI} 6.5.1",
        SOX,
    ),
)
CODES: dict[str, Code] = {c.code: c for c in _C}
# Codes that say evidence is not there (or not in time); every other code is a violation.
EVIDENCE_CODES = frozenset({"evidence_gap", "evidence_recorded_late"})
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
