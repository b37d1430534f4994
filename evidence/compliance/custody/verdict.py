"""The verdict on one deployment, in one sentence, and the figures of many.

compliant   every link is satisfied by evidence recorded in time
exception   at least one violation (open or with its risk accepted): the control failed
incomplete  no violation, but some link is not evidenced (not looked, could not read, too late)
attempt     a sync that failed or never finished: shown in custody, never judged, in no rate

The same function decides it from a chain's findings and from stored Finding rows, so the API,
the admin, the command and the packs say the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from evidence.compliance.findings.codes import EVIDENCE_CODES

COMPLIANT, EXCEPTION, INCOMPLETE, ATTEMPT = "compliant", "exception", "incomplete", "attempt"
VERDICTS = (COMPLIANT, EXCEPTION, INCOMPLETE, ATTEMPT)


class FindingLike(Protocol):
    code: str
    subject: str
    accepted_until: datetime | None


def _listed(items: list[str], most: int = 3) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def decide(findings: Iterable[FindingLike], outcome: str, attempt: bool) -> tuple[str, str]:
    """(verdict, reason in one sentence) from the findings of a deployment."""
    if attempt:
        return ATTEMPT, (
            f"A {outcome.replace('_', ' ')} sync is an attempt, not a deployment: it is shown but never judged, "
            "and what ran stayed the previous deployment."
        )
    rows = list(findings)
    violations = sorted({f.code for f in rows if f.code not in EVIDENCE_CODES})
    gaps = sorted({f.code for f in rows if f.code in EVIDENCE_CODES})
    if violations:
        accepted = sorted({f.code for f in rows if f.code not in EVIDENCE_CODES and f.accepted_until is not None})
        note = f" (risk accepted for {_listed(accepted)})" if accepted else ""
        return EXCEPTION, f"{len(violations)} control(s) violated: {_listed(violations)}{note}."
    if gaps:
        subjects = sorted({f.subject for f in rows if f.code in EVIDENCE_CODES})
        why = "evidence recorded only after the deployment" if gaps == ["evidence_recorded_late"] else "evidence gaps"
        return INCOMPLETE, f"No violation, but {why} for {_listed(subjects, 2)}."
    return COMPLIANT, "Every link of the chain is satisfied by evidence recorded before the deployment."


def rate(compliant: int, judged: int) -> str | None:
    """Compliance rate as a decimal string (no floats in figures), None when nothing was judged."""
    if not judged:
        return None
    return str((Decimal(compliant) / Decimal(judged)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


@dataclass
class Tally:
    deployments: int = 0  # judged deployments (attempts excluded)
    compliant: int = 0
    exception: int = 0
    incomplete: int = 0
    attempts: int = 0

    def count(self, verdict: str) -> None:
        if verdict == ATTEMPT:
            self.attempts += 1
            return
        self.deployments += 1
        setattr(self, verdict, getattr(self, verdict) + 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "deployments": self.deployments,
            "compliant": self.compliant,
            "exception": self.exception,
            "incomplete": self.incomplete,
            "attempts": self.attempts,
            "compliance_rate": rate(self.compliant, self.deployments),
        }


def tally(verdicts: Iterable[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Per environment, from (environment, verdict) pairs: counts and the compliance rate."""
    out: dict[str, Tally] = {}
    for environment, verdict in verdicts:
        out.setdefault(environment, Tally()).count(verdict)
    return {env: t.as_json() for env, t in sorted(out.items())}
