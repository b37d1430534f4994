"""Celery task for audit packs. It takes an id, refetches, and holds no logic (see exports.jobs)."""

from __future__ import annotations

from celery import shared_task

from .jobs import run_pack


# No automatic retries: a failed pack records its reason and a person asks again. acks_late so a
# worker killed mid-build leaves the message for another (run_pack takes over a 'running' row).
@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def build_audit_pack(pack_id: int) -> None:
    run_pack(pack_id)
