"""The one write path for change policies and risk acceptances: each is a ledger entry.

`record_policy` appends a `policy.version` entry (the admin and the API both call it);
`accept_finding` appends a `finding.acceptance` entry. Read models follow by projection
(`evidence.compliance.projectors`), and findings are re-judged after it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from evidence.core.digests import sorted_json_hash64
from evidence.core.times import parse_time
from ledger.append import Appended, append_entry
from ledger.envelope import Record

POLICY_KIND = "policy.version"
ACCEPTANCE_KIND = "finding.acceptance"
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


class PolicyError(ValueError):
    """Bad policy or acceptance input; the message names the field."""


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
    entry_seq: int | None = None

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


def record_policy(environment: str, recorded_by: str, rules: dict[str, Any], effective_at: Any = None) -> Appended:
    """Append a new version of an environment's policy (effective now, or from `effective_at`).
    Recording the rules in force again is a no-op; the key names the version, so a retry of the
    same version adds nothing."""
    from evidence.compliance.models import Policy

    if not isinstance(environment, str) or not environment.strip():
        raise PolicyError("environment: required")
    environment = environment.strip()
    if not recorded_by:
        raise PolicyError("recorded_by: required")
    checked = _check_rules(rules)
    now = datetime.now(UTC)
    when = _time("effective_at", effective_at) if effective_at else now
    content = sorted_json_hash64(checked)
    previous = Policy.objects.filter(environment=environment).order_by("-version").first()
    version = (previous.version + 1) if previous else 1
    data = {
        "environment": environment,
        "version": version,
        "rules": checked,
        "effective_at": _stamp(when),
        "recorded_by": recorded_by,
        "content_hash": content,
    }
    if previous is not None and previous.content_hash == content and effective_at is None:
        # Unchanged rules: the version in force stays; nothing new to record.
        return Appended(f"policy:{environment}:{previous.version}:{content}", False, previous.entry_seq)
    record = Record(
        kind=POLICY_KIND,
        source="policy",
        subject=f"policy:{environment}",
        idempotency_key=f"policy:{environment}:{version}:{content}",
        data=data,
        observed_at=now,
        occurred_at=when,
    )
    return append_entry(record)


def accept_finding(finding_key: str, accepted_by: str, reason: str, until: Any) -> Appended:
    """Record a risk acceptance for a finding (who, why, until when). The finding stays listed."""
    from evidence.compliance.models import Finding

    finding = Finding.objects.filter(key=finding_key).first()
    if finding is None:
        raise PolicyError(f"finding: no finding with key {finding_key!r}")
    if not accepted_by:
        raise PolicyError("accepted_by: required")
    if not isinstance(reason, str) or len(reason.strip()) < 10:
        raise PolicyError("reason: say why the risk is accepted (at least 10 characters)")
    now = datetime.now(UTC)
    ends = _time("until", until)
    if ends <= now:
        raise PolicyError("until: must be in the future")
    data = {
        "finding": finding.key,
        "code": finding.code,
        "deployment": finding.deployment.identity,
        "subject": finding.subject,
        "accepted_by": accepted_by,
        "reason": reason.strip(),
        "until": _stamp(ends),
    }
    digest = sorted_json_hash64(data)
    record = Record(
        kind=ACCEPTANCE_KIND,
        source="findings",
        subject=f"finding:{finding.key}",
        idempotency_key=f"finding:acceptance:{finding.key}:{digest}",
        data=data,
        observed_at=now,
        occurred_at=now,
    )
    return append_entry(record)
