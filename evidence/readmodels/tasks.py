"""Celery task that brings the read models up to date. Tasks take ids, refetch, and hold no logic."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

log = logging.getLogger(__name__)


def on_sequenced(sender, first_seq: int, last_seq: int, **kwargs) -> None:
    """After the sequencer commits: bring the read models up to date."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        from .projectors import project_pending

        project_pending()
    else:
        try:
            project.delay()
        except Exception as exc:  # broker down: the beat's evidence-project sweep catches up
            log.warning("projection not scheduled after seq %d: %s", last_seq, exc)


# Named as before the apps split, so queued messages and the beat schedule keep their meaning.
@shared_task(name="evidence.tasks.project", acks_late=True, time_limit=3600)
def project() -> int:
    from .projectors import project_pending

    return project_pending()
