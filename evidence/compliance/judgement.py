"""Finding rows: recomputed from the chains of custody after each projection run.

It sits above both custody (which judges links by findings.codes and findings.policy) and
findings, so neither package imports the other back.

A deployment's rows are brought to what its chain says now, upserted by a stable key (hash of
deployment identity, code and subject): a finding that stays keeps its row id, one that no
longer holds is deleted, and an acceptance recorded against a key still applies after a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from evidence.compliance.custody import build_many
from evidence.compliance.models import Finding
from evidence.readmodels.models import Deployment

CHUNK = 200


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
            rows = []
            for chain, deployment in zip(build_many(chunk), chunk, strict=True):
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
                            policy_seq=chain.policy.get("entry_seq"),
                            accepted_until=f.accepted_until,
                            accepted_by=f.accepted_by,
                            acceptance_reason=f.acceptance_reason,
                            acceptance_seq=f.acceptance_seq,
                        )
                    )
            _save(rows, Finding.objects.filter(deployment_id__in=[d.id for d in chunk]))
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
