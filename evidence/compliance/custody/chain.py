"""The chain of custody of one deployment as plain data: links in chain order, findings, a verdict.

Each link says what it is about (`subject`), which rule judged it (`rule`), and one of three
outcomes (`status`): satisfied, violated, or not evidenced, the last with a reason (`reason`:
not looked, could not read, looked too late). It says why in plain words, which ledger entries
prove it, and where to look upstream. A violated link carries the codes of the findings it
raises; a link that is not evidenced always raises `evidence_gap` (or `evidence_recorded_late`
when the evidence exists but was recorded only after what it would vouch for): a gap is never a
violation and never a pass. `Custody.findings` gathers them; `Custody.verdict` sums them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evidence.compliance.findings.codes import CODES, SEVERITY_ORDER
from evidence.core.digests import short_hash32

SATISFIED, VIOLATED, NOT_EVIDENCED = "satisfied", "violated", "not_evidenced"
STATUSES = (SATISFIED, VIOLATED, NOT_EVIDENCED)
NOT_LOOKED, UNREADABLE, RECORDED_LATE = "not_looked", "could_not_read", "recorded_late"
REASONS = {NOT_LOOKED: "not looked", UNREADABLE: "could not read", RECORDED_LATE: "looked too late"}
# The names before the three outcomes were spelled out; kept for callers that import them.
PRESENT, FAILING, MISSING = SATISFIED, VIOLATED, NOT_EVIDENCED


@dataclass
class Link:
    name: str
    status: str
    explanation: str
    entry_seqs: list[int] = field(default_factory=list)
    url: str = ""
    subject: str = ""
    path: str = ""  # deployment, image (the built artifact) or config (the deployed Git revision)
    codes: list[str] = field(default_factory=list)
    repository: str = ""
    reason: str = ""  # for not_evidenced: not_looked, could_not_read or recorded_late
    rule: str = ""  # the rule module that judged it

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rule": self.rule,
            "path": self.path,
            "subject": self.subject,
            "status": self.status,
            "reason": self.reason,
            "explanation": self.explanation,
            "entry_seqs": sorted(set(self.entry_seqs)),
            "url": self.url,
            "findings": list(self.codes),
        }


@dataclass
class Finding:
    code: str
    severity: str
    title: str
    explanation: str
    subject: str
    entry_seqs: list[int]
    key: str
    repository: str = ""
    controls: list[str] = field(default_factory=list)
    accepted_until: datetime | None = None
    accepted_by: str = ""  # who proposed the acceptance in force
    acceptance_approved_by: str = ""  # the second engineer, who approved it
    acceptance_reason: str = ""
    acceptance_seq: int | None = None
    acceptance_approval_seq: int | None = None

    def status_at(self, now: datetime) -> str:
        return "accepted" if self.accepted_until is not None and self.accepted_until > now else "open"

    def as_json(self, now: datetime | None = None) -> dict[str, Any]:
        out = {
            "key": self.key,
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "subject": self.subject,
            "explanation": self.explanation,
            "entry_seqs": sorted(set(self.entry_seqs)),
            "controls": self.controls,
            "accepted_until": self.accepted_until.isoformat() if self.accepted_until else None,
            "accepted_by": self.accepted_by,
            "acceptance_reason": self.acceptance_reason,
            "acceptance_seq": self.acceptance_seq,
            "acceptance_approved_by": self.acceptance_approved_by,
            "acceptance_approval_seq": self.acceptance_approval_seq,
        }
        if now is not None:
            out["status"] = self.status_at(now)
        return out


def finding_key(deployment_identity: str, code: str, subject: str) -> str:
    """Stable across rebuilds: the deployment's identity (not its row id), the code and the subject."""
    return short_hash32(f"{deployment_identity}\n{code}\n{subject}")


@dataclass
class Custody:
    deployment_id: int | None
    identity: str
    environment: str
    application: str
    revision: str
    deployed_at: datetime
    policy: dict[str, Any]
    links: list[Link] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    deployment_seqs: list[int] = field(default_factory=list)
    outcome: str = "succeeded"
    attempt: bool = False  # a failed or unfinished sync: shown, never judged
    verdict: str = ""
    verdict_reason: str = ""

    @property
    def entry_seqs(self) -> list[int]:
        seqs = {s for link in self.links for s in link.entry_seqs}
        seqs |= {f.acceptance_seq for f in self.findings if f.acceptance_seq is not None}
        seqs |= {f.acceptance_approval_seq for f in self.findings if f.acceptance_approval_seq is not None}
        return sorted(seqs)

    def add(self, link: Link) -> Link:
        if link.status not in STATUSES:
            raise ValueError(f"link {link.name}: status {link.status!r} is not one of {STATUSES}")
        if link.status == NOT_EVIDENCED:
            gap = "evidence_recorded_late" if link.reason == RECORDED_LATE else "evidence_gap"
            link.reason = link.reason or NOT_LOOKED
            if gap not in link.codes:
                link.codes.append(gap)
        self.links.append(link)
        return link

    def judge(self, explanations: dict[tuple[str, str], str]) -> None:
        """One finding per (code, subject): the links that raise it, with their entries. An
        attempt (a sync that failed or never finished) raises none: it is shown, not judged."""
        if self.attempt:
            for link in self.links:
                link.codes = []
            self.findings = []
            return
        found: dict[tuple[str, str], Finding] = {}
        for link in self.links:
            for code in link.codes:
                item = found.get((code, link.subject))
                if item is None:
                    meta = CODES[code]
                    item = found[(code, link.subject)] = Finding(
                        code=code,
                        severity=meta.severity,
                        title=meta.title,
                        explanation=explanations.get((code, link.subject), link.explanation),
                        subject=link.subject,
                        entry_seqs=[],
                        key=finding_key(self.identity, code, link.subject),
                        repository=link.repository,
                        controls=list(meta.controls),
                    )
                elif (code, link.subject) not in explanations and link.explanation not in item.explanation:
                    item.explanation += " " + link.explanation
                item.entry_seqs = sorted({*item.entry_seqs, *link.entry_seqs, *self.deployment_seqs})
        self.findings = sorted(found.values(), key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.subject))

    def as_json(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "deployment": self.deployment_id,
            "identity": self.identity,
            "environment": self.environment,
            "application": self.application,
            "revision": self.revision,
            "deployed_at": self.deployed_at.isoformat(),
            "outcome": self.outcome,
            "attempt": self.attempt,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "policy": self.policy,
            "links": [link.as_json() for link in self.links],
            "findings": [f.as_json(now) for f in self.findings],
            "entry_seqs": self.entry_seqs,
        }
