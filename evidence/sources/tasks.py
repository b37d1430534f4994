"""Celery tasks for harvesting. Tasks take ids, refetch, and hold no logic.

Task names are kept from before the apps split, so queued messages and the beat schedule still resolve.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .models import HarvestRun, Source


@shared_task(name="evidence.tasks.harvest_source", acks_late=True)
def harvest_source(source_id: int) -> None:
    """Fan out one task per target of the source."""
    from .kinds import get_harvester

    source = Source.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return  # removed or disabled since it was scheduled
    for target in get_harvester(source.kind).targets(source):
        harvest_target.delay(source_id, target)


# Retried when the worker dies (acks_late); records carry idempotency keys, so a rerun adds nothing twice.
@shared_task(
    name="evidence.tasks.harvest_target",
    acks_late=True,
    time_limit=3600,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def harvest_target(source_id: int, target: str) -> None:
    from .harvest import harvest_target as run

    source = Source.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return
    run(source, target)


@shared_task(name="evidence.tasks.harvest_due")
def harvest_due() -> int:
    """Beat: start the harvest of every enabled source whose schedule has come round."""
    now = timezone.now()
    started = 0
    for source in Source.objects.filter(enabled=True):
        last = (
            HarvestRun.objects.filter(source=source)
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        if last is None or (now - last).total_seconds() >= source.schedule:
            harvest_source.delay(source.pk)
            started += 1
    return started
