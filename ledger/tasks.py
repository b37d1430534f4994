"""Celery tasks: thin wrappers, the work is in sequencer and checkpoints."""

from celery import shared_task

from .checkpoints import sign_checkpoint
from .sequencer import SequencerConflict, sequence_pending


@shared_task(  # type: ignore[untyped-decorator]
    acks_late=True, autoretry_for=(SequencerConflict,), retry_backoff=True, max_retries=5, time_limit=600
)
def sequence() -> int:
    """Sequence whatever is queued (retried when another sequencer moved the head)."""
    return sequence_pending()


@shared_task(acks_late=True, time_limit=600)  # type: ignore[untyped-decorator]
def checkpoint() -> int | None:
    """Sequence, then sign the tree head (the beat schedule runs this)."""
    sequence_pending()
    signed = sign_checkpoint()
    return signed.size if signed else None
