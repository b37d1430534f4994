"""The one write path for change policies and risk acceptances: each is a ledger entry, and each
takes effect only when a second engineer approves it (four eyes, `four_eyes`).

`propose_policy` appends `policy.version.proposed`, `approve_policy` `policy.version.approved`;
`propose_acceptance` appends `finding.acceptance.proposed`, `approve_acceptance`
`finding.acceptance.approved`. The admin and the API call only these. Read models follow by
projection (`evidence.compliance.projectors`), and findings are re-judged after it. Entries of the
older single-person kinds (`policy.version`, `finding.acceptance`) project as pending proposals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from evidence.compliance.findings.errors import PolicyError
from evidence.compliance.findings.four_eyes import check_outside_the_change, check_second_engineer
from evidence.core.digests import sorted_json_hash64
from evidence.core.times import parse_time
from ledger.append import Appended, append_entry
from ledger.envelope import Record

POLICY_PROPOSED, POLICY_APPROVED = "policy.version.proposed", "policy.version.approved"
ACCEPTANCE_PROPOSED, ACCEPTANCE_APPROVED = "finding.acceptance.proposed", "finding.acceptance.approved"
LEGACY_POLICY, LEGACY_ACCEPTANCE = "policy.version", "finding.acceptance"  # one person, before four eyes
PROTECTION_SETTINGS = {
    "protected": bool,
    "require_pull_request": bool,
    "required_approvals": int,
    "dismiss_stale_reviews": bool,
    "require_code_owner_reviews": bool,
    "require_last_push_approval": bool,
    "enforce_admins": bool,
    "required_signatures": bool,
}


@dataclass(frozen=True)
class PolicyRules:
    """What a deployment is judged by. `BASELINE` applies where no version was recorded."""

    min_approvals: int = 1
    require_signature: bool = True
    trusted_signers: list[str] = field(default_factory=list)
    require_provenance: bool = True
    trusted_builders: list[str] = field(default_factory=list)
    protection: dict[str, Any] = field(default_factory=dict)
    environment: str = ""
    version: int | None = None
    entry_seq: int | None = None  # the version's proposal
    approval_seq: int | None = None  # and its approval by a second engineer

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


BASELINE = PolicyRules(protection={"protected": True})


def _check_rules(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    approvals = data.get("min_approvals", 1)
    if not isinstance(approvals, int) or isinstance(approvals, bool) or not 0 <= approvals <= 20:
        raise PolicyError("min_approvals: expected a whole number from 0 to 20")
    out["min_approvals"] = approvals
    for name in ("require_signature", "require_provenance"):
        value = data.get(name, True)
        if not isinstance(value, bool):
            raise PolicyError(f"{name}: expected true or false")
        out[name] = value
    for name in ("trusted_signers", "trusted_builders"):
        value = data.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise PolicyError(f"{name}: expected a list of names (fnmatch patterns allowed)")
        out[name] = sorted({v.strip() for v in value})
    protection = data.get("protection") or {}
    if not isinstance(protection, dict):
        raise PolicyError("protection: expected an object such as {'dismiss_stale_reviews': true}")
    for name, value in protection.items():
        kind = PROTECTION_SETTINGS.get(name)
        if kind is None:
            raise PolicyError(f"protection.{name}: unknown setting (known: {', '.join(sorted(PROTECTION_SETTINGS))})")
        if not isinstance(value, kind) or (kind is int and (isinstance(value, bool) or value < 0)):
            raise PolicyError(f"protection.{name}: expected {'a whole number' if kind is int else 'true or false'}")
    out["protection"] = dict(sorted(protection.items()))
    unknown = sorted(set(data) - {*out, "environment", "effective_at"})
    if unknown:
        raise PolicyError(f"unknown field(s): {', '.join(unknown)}")
    return out


def _time(name: str, value: Any) -> datetime:
    try:
        moment = parse_time(value)
    except ValueError:
        moment = None
    if moment is None:
        raise PolicyError(f"{name}: {value!r} is not an ISO 8601 time")
    return moment


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def propose_policy(environment: str, recorded_by: str, rules: dict[str, Any], effective_at: Any = None) -> Appended:
    """Propose a new version of an environment's policy (effective from its approval, or from
    `effective_at`). Proposing the approved rules in force again is a no-op; the key names the
    version, so a retry of the same proposal adds nothing."""
    from evidence.compliance.models import Policy

    if not isinstance(environment, str) or not environment.strip():
        raise PolicyError("environment: required")
    environment = environment.strip()
    if not recorded_by:
        raise PolicyError("recorded_by: required")
    checked = _check_rules(rules)
    now = datetime.now(UTC)
    when = _time("effective_at", effective_at) if effective_at else None
    content = sorted_json_hash64(checked)
    latest = Policy.objects.filter(environment=environment).order_by("-version").first()
    in_force = Policy.objects.filter(environment=environment, approval_seq__isnull=False).order_by("-version").first()
    if in_force is not None and in_force.content_hash == content and when is None:
        # Unchanged rules: the version in force stays; nothing new to record.
        return Appended(f"policy:{environment}:{in_force.version}:{content}", False, in_force.entry_seq)
    version = (latest.version + 1) if latest else 1
    data = {
        "environment": environment,
        "version": version,
        "rules": checked,
        "effective_at": _stamp(when) if when else None,
        "recorded_by": recorded_by,
        "content_hash": content,
    }
    subject, key = f"policy:{environment}", f"policy:{environment}:{version}:{content}"
    return _append_now(POLICY_PROPOSED, "policy", subject, key, data, now)


def approve_policy(proposal_seq: int, approved_by: str) -> Appended:
    """A second engineer approves a proposed policy version; it is in force from then (or from the
    time the proposal asked for)."""
    from evidence.compliance.models import Policy

    proposal = Policy.objects.filter(entry_seq=proposal_seq).first()
    if proposal is None:
        raise PolicyError(f"proposal: no proposed policy version at entry #{proposal_seq}")
    if proposal.approval_seq is not None:
        raise PolicyError(f"proposal: #{proposal_seq} was already approved by {proposal.approved_by}")
    check_second_engineer(proposal.recorded_by, approved_by)
    now = datetime.now(UTC)
    asked = requested_effective_at(proposal_seq)
    data = {
        "proposal_seq": proposal_seq,
        "environment": proposal.environment,
        "version": proposal.version,
        "proposed_by": proposal.recorded_by,
        "approved_by": approved_by,
        "effective_at": _stamp(asked or now),
    }
    subject, key = f"policy:{proposal.environment}", f"policy:approval:{proposal_seq}"
    return _append_now(POLICY_APPROVED, "policy", subject, key, data, now)


def requested_effective_at(proposal_seq: int) -> datetime | None:
    """The effective time a proposal asked for, read from its entry (None: from its approval)."""
    from ledger.models import Entry

    entry = Entry.objects.get(seq=proposal_seq)
    asked = entry.data.get("effective_at")
    return parse_time(asked, to_utc=True) if asked else None


def propose_acceptance(finding_key: str, proposed_by: str, reason: str, until: Any) -> Appended:
    """Propose accepting a finding's risk (who, why, until when). The finding stays open until a
    different engineer approves; nobody who authored, approved or merged the change may propose."""
    from evidence.compliance.models import Finding

    finding = Finding.objects.filter(key=finding_key).select_related("deployment").first()
    if finding is None:
        raise PolicyError(f"finding: no finding with key {finding_key!r}")
    if not proposed_by:
        raise PolicyError("proposed_by: required")
    if not isinstance(reason, str) or len(reason.strip()) < 10:
        raise PolicyError("reason: say why the risk is accepted (at least 10 characters)")
    now = datetime.now(UTC)
    ends = _time("until", until)
    if ends <= now:
        raise PolicyError("until: must be in the future")
    check_outside_the_change(finding.deployment, proposed_by)
    data = {
        "finding": finding.key,
        "code": finding.code,
        "deployment": finding.deployment.identity,
        "subject": finding.subject,
        "proposed_by": proposed_by,
        "reason": reason.strip(),
        "until": _stamp(ends),
    }
    digest = sorted_json_hash64(data)
    subject, key = f"finding:{finding.key}", f"finding:acceptance:{finding.key}:{digest}"
    return _append_now(ACCEPTANCE_PROPOSED, "findings", subject, key, data, now)


def approve_acceptance(proposal_seq: int, approved_by: str) -> Appended:
    """A second engineer, outside the change, approves a proposed acceptance: from then the finding
    counts as accepted until the proposal's end."""
    from evidence.compliance.models import Finding, RiskAcceptance

    proposal = RiskAcceptance.objects.filter(entry_seq=proposal_seq).first()
    if proposal is None:
        raise PolicyError(f"proposal: no proposed risk acceptance at entry #{proposal_seq}")
    if proposal.approval_seq is not None:
        raise PolicyError(f"proposal: #{proposal_seq} was already approved by {proposal.approved_by}")
    now = datetime.now(UTC)
    if proposal.until <= now:
        raise PolicyError(f"proposal: #{proposal_seq} lapsed on {proposal.until:%Y-%m-%d}; propose it again")
    check_second_engineer(proposal.accepted_by, approved_by)
    finding = Finding.objects.filter(key=proposal.finding_key).select_related("deployment").first()
    if finding is None:
        raise PolicyError(f"finding: no finding with key {proposal.finding_key!r}")
    check_outside_the_change(finding.deployment, approved_by)
    data = {
        "proposal_seq": proposal_seq,
        "finding": finding.key,
        "deployment": finding.deployment.identity,
        "proposed_by": proposal.accepted_by,
        "approved_by": approved_by,
    }
    subject, key = f"finding:{finding.key}", f"finding:acceptance:approval:{proposal_seq}"
    return _append_now(ACCEPTANCE_APPROVED, "findings", subject, key, data, now)


def _append_now(kind: str, source: str, subject: str, key: str, data: dict[str, Any], now: datetime) -> Appended:
    """Append one decision of an engineer (proposal or approval), observed and occurring now."""
    record = Record(
        kind=kind, source=source, subject=subject, idempotency_key=key, data=data, observed_at=now, occurred_at=now
    )
    return append_entry(record)
