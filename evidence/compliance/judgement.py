"""Finding and verdict rows: recomputed from the chains of custody after each projection run.

It sits above both custody (which judges links by findings.codes and findings.policy) and
findings, so neither package imports the other back.

Only the deployments that the newly applied entries can touch are re-judged (see `targets`);
after `rebuild_projections` (which clears the judge cursor with the read models) all are.
A deployment's rows are brought to what its chain says now, upserted by a stable key (hash of
deployment identity, code and subject): a finding that stays keeps its row id, one that no
longer holds is deleted, and an acceptance recorded against a key still applies after a rebuild.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from evidence.compliance.custody import build_many
from evidence.compliance.models import DeploymentVerdict, Finding, JudgeCursor
from evidence.readmodels.models import Deployment, ProjectionCursor
from evidence.readmodels.projectors import Run

CHUNK = 200
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Judged:
    deployments: int  # how many were re-judged
    findings: int  # how many findings they have now
    everything: bool  # all deployments (first run, or after a rebuild)


def judge_pending(run: Run | None = None) -> Judged:
    """Re-judge the deployments touched by entries projected since the last call (all of them on
    the first call after a rebuild). Called by the projector after each run that applied entries,
    with what that run read: when that is exactly what was projected since the last call, the
    entries are not read again."""
    from evidence.compliance.targets import touched_deployments

    with transaction.atomic():
        head = ProjectionCursor.objects.filter(id=1).values_list("last_seq", flat=True).first()
        head = -1 if head is None else head
        cursor, _ = JudgeCursor.objects.select_for_update().get_or_create(id=1)
        if cursor.last_seq < 0:
            ids = None
            count = Deployment.objects.count()
        else:
            first = cursor.last_seq + 1
            seen = run is not None and (run.first_seq, run.last_seq) == (first, head)
            ids = sorted(touched_deployments(first, head, run.entries if run and seen else None))
            count = len(ids)
        findings = refresh_findings(ids) if ids is None or ids else 0
        cursor.last_seq = max(cursor.last_seq, head)
        cursor.save(update_fields=["last_seq"])
    log.info(
        "re-judged %d deployment(s)%s up to seq %d: %d finding(s)",
        count,
        " (all)" if ids is None else "",
        head,
        findings,
    )
    return Judged(count, findings, ids is None)


def refresh_findings(deployment_ids: list[int] | None = None) -> int:
    """Re-judge the given deployments (all when None); returns how many findings they have."""
    query = Deployment.objects.order_by("id")
    if deployment_ids is not None:
        query = query.filter(id__in=deployment_ids)
    total = 0
    last = 0
    with transaction.atomic():
        while True:
            chunk = list(query.filter(id__gt=last)[:CHUNK])
            if not chunk:
                return total
            last = chunk[-1].id
            rows, verdicts = [], []
            for chain, deployment in zip(build_many(chunk), chunk, strict=True):
                policy_seq = chain.policy.get("entry_seq")
                verdicts.append(
                    DeploymentVerdict(
                        deployment=deployment,
                        environment=deployment.environment,
                        application=deployment.application,
                        deployed_at=chain.deployed_at,
                        verdict=chain.verdict,
                        reason=chain.verdict_reason,
                        policy_seq=policy_seq,
                    )
                )
                for f in chain.findings:
                    rows.append(
                        Finding(
                            key=f.key,
                            deployment=deployment,
                            environment=deployment.environment,
                            application=deployment.application,
                            deployed_at=chain.deployed_at,
                            code=f.code,
                            severity=f.severity,
                            subject=f.subject[:500],
                            repository=f.repository[:300],
                            explanation=f.explanation,
                            controls=f.controls,
                            entry_seqs=sorted(set(f.entry_seqs)),
                            policy_seq=policy_seq,
                            accepted_until=f.accepted_until,
                            accepted_by=f.accepted_by,
                            acceptance_reason=f.acceptance_reason,
                            acceptance_seq=f.acceptance_seq,
                            acceptance_approved_by=f.acceptance_approved_by,
                            acceptance_approval_seq=f.acceptance_approval_seq,
                        )
                    )
            ids = [d.id for d in chunk]
            _save(rows, Finding.objects.filter(deployment_id__in=ids))
            DeploymentVerdict.objects.filter(deployment_id__in=ids).delete()
            DeploymentVerdict.objects.bulk_create(verdicts)
            total += len(rows)


FIELDS = [f.name for f in Finding._meta.concrete_fields if f.name not in ("id", "key")]


def _save(rows: list[Finding], existing_rows: Iterable[Finding]) -> None:
    """Upsert by key, so a finding that stays keeps its id (the API's accept URL names it)."""
    existing = {row.key: row for row in existing_rows}
    changed = []
    for row in rows:
        old = existing.pop(row.key, None)
        if old is None:
            continue
        row.pk = old.pk
        if any(getattr(old, name) != getattr(row, name) for name in FIELDS):
            changed.append(row)
    if existing:
        Finding.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    Finding.objects.bulk_create([row for row in rows if row.pk is None])
    if changed:
        Finding.objects.bulk_update(changed, FIELDS)
