"""Running harvests: the one place that takes a harvester's records into the ledger."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from evidence.sources.harvesters import HarvestError, HarvestResult
from evidence.sources.kinds import get_harvester
from evidence.sources.models import HarvestCursor, HarvestRun, Source
from ledger.append import append_entries, append_entry
from ledger.checkpoints import sign_after_batch
from ledger.envelope import Record

log = logging.getLogger(__name__)


def harvest_source(source: Source) -> list[HarvestRun]:
    """Harvest every target of a source inline, one run each."""
    harvester = get_harvester(source.kind)
    runs = [harvest_target(source, target) for target in harvester.targets(source)]
    sign_after_batch()  # embedded default (no beat schedule): the run's tail is signed when it ends
    return runs


def harvest_target(source: Source, target: str) -> HarvestRun:
    """Harvest one target: append its records, then a harvest-run entry, then move the cursor."""
    run = HarvestRun.objects.create(source=source, target=target, started_at=timezone.now())
    cursor_row = HarvestCursor.objects.filter(source=source, target=target).first()
    cursor = dict(cursor_row.state) if cursor_row else {}
    try:
        result = get_harvester(source.kind).harvest(source, target, cursor)
    except HarvestError as exc:
        result = HarvestResult(cursor=cursor, errors=[str(exc)])
        failed = True
    else:
        failed = False
    appended = append_entries(result.records)
    run.requests = result.requests
    run.records = len(result.records)
    run.appended = sum(1 for a in appended if a.created)
    run.errors = result.errors
    run.status = "failed" if failed else ("partial" if result.errors else "succeeded")
    run.finished_at = timezone.now()
    run.entry_key = f"harvest-run:{source.name}:{target}:{run.pk}:{run.started_at.isoformat()}"
    append_entry(
        Record(
            kind="harvest.run",
            source=source.name,
            subject=f"{source.kind}:{target}",
            idempotency_key=run.entry_key,
            observed_at=run.finished_at,
            occurred_at=run.started_at,
            data={
                "source_kind": source.kind,
                "target": target,
                "status": run.status,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat(),
                "requests": run.requests,
                "records": run.records,
                "appended": run.appended,
                "errors": run.errors,
                "observed": result.observed,
            },
        )
    )
    with transaction.atomic():
        run.save()
        if not failed:  # the cursor moves only past what is now in the ledger
            HarvestCursor.objects.update_or_create(source=source, target=target, defaults={"state": result.cursor})
    log.info("harvest %s:%s %s, %d new of %d", source.name, target, run.status, run.appended, run.records)
    return run
