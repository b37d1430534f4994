"""Human labels for finding codes, controls, link statuses and verdicts: what a person reads,
with the raw code kept beside it (the codes are the API's and the packs' stable names)."""

from __future__ import annotations

from evidence.compliance.findings.codes import CODES, REQUIREMENTS

STATUS_LABELS = {"satisfied": "Satisfied", "violated": "Violated", "not_evidenced": "Not evidenced"}
VERDICT_LABELS = {
    "compliant": "Compliant",
    "exception": "Exception",
    "incomplete": "Incomplete evidence",
    "attempt": "Attempt (not judged)",
}
# One colour per verdict, the same in the admin's badges and in every chart (admin and PDF).
VERDICT_COLOURS = {"compliant": "#2e7d32", "exception": "#ba2121", "incomplete": "#9e6a00", "attempt": "#78909c"}


def code_label(code: str) -> str:
    """The finding code's title (`protection_bypassed` -> "Branch protection bypassed at merge time")."""
    known = CODES.get(code)
    return known.title if known else code.replace("_", " ").capitalize()


def control_label(control: str) -> str:
    """A requirement with what it asks (`SOC 2 CC8.1` -> "SOC 2 CC8.1: changes are authorised, ...")."""
    meaning = REQUIREMENTS.get(control)
    return f"{control}: {meaning}" if meaning else control


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " "))


def verdict_label(verdict: str) -> str:
    return VERDICT_LABELS.get(verdict, verdict)
