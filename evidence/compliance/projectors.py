"""Policy proposals and approvals -> Policy rows; acceptance proposals and approvals -> RiskAcceptance
rows. A row cites its proposal's seq, and once approved its approval's seq too.

Finding and verdict rows and the judge cursor are registered here too, so `rebuild_projections`
clears them with the rest; after every projection run the deployments that the new entries touch
are re-judged, and all of them after a rebuild (see evidence.compliance.judgement).
"""

from __future__ import annotations

from evidence.compliance.models import DeploymentVerdict, Finding, JudgeCursor, Policy, RiskAcceptance
from evidence.core.times import parse_time
from evidence.readmodels.projectors import Run, after_projection, projection_model, projects
from ledger.models import Entry

projection_model(Policy)
projection_model(RiskAcceptance)
projection_model(Finding)
projection_model(DeploymentVerdict)
projection_model(JudgeCursor)


@projects("policy.version.proposed", "policy.version")  # the older kind: a proposal nobody approved
def project_policy(entry: Entry) -> None:
    data = entry.data
    rules = data.get("rules") or {}
    Policy.objects.get_or_create(
        entry_seq=entry.seq,
        defaults={
            "environment": data["environment"],
            "version": int(data["version"]),
            "min_approvals": int(rules.get("min_approvals", 1)),
            "require_signature": bool(rules.get("require_signature", True)),
            "trusted_signers": list(rules.get("trusted_signers") or []),
            "require_provenance": bool(rules.get("require_provenance", True)),
            "trusted_builders": list(rules.get("trusted_builders") or []),
            "protection": dict(rules.get("protection") or {}),
            "effective_at": parse_time(data.get("effective_at"), to_utc=True) or entry.observed_at,
            "recorded_by": str(data.get("recorded_by") or ""),
            "content_hash": str(data.get("content_hash") or ""),
        },
    )


@projects("policy.version.approved")
def project_policy_approval(entry: Entry) -> None:
    data = entry.data
    Policy.objects.filter(entry_seq=int(data["proposal_seq"]), approval_seq__isnull=True).update(
        approved_by=str(data.get("approved_by") or ""),
        approved_at=entry.observed_at,
        approval_seq=entry.seq,
        effective_at=parse_time(data.get("effective_at"), to_utc=True) or entry.observed_at,
    )


@projects("finding.acceptance.proposed", "finding.acceptance")  # the older kind: a proposal nobody approved
def project_acceptance(entry: Entry) -> None:
    data = entry.data
    RiskAcceptance.objects.get_or_create(
        entry_seq=entry.seq,
        defaults={
            "finding_key": data["finding"],
            "code": str(data.get("code") or ""),
            "accepted_by": str(data.get("proposed_by") or data.get("accepted_by") or ""),
            "reason": str(data.get("reason") or ""),
            "until": parse_time(data["until"], to_utc=True),
            "accepted_at": entry.occurred_at or entry.observed_at,
        },
    )


@projects("finding.acceptance.approved")
def project_acceptance_approval(entry: Entry) -> None:
    data = entry.data
    RiskAcceptance.objects.filter(entry_seq=int(data["proposal_seq"]), approval_seq__isnull=True).update(
        approved_by=str(data.get("approved_by") or ""), approved_at=entry.observed_at, approval_seq=entry.seq
    )


@after_projection
def judge_findings(run: Run) -> None:
    from evidence.compliance.judgement import judge_pending

    judge_pending(run)
