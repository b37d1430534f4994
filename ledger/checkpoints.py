"""Signing checkpoints: one per tree size, never one inconsistent with an earlier one.

"Earlier" means the last checkpoint in the database and the latest one held outside it
(LEDGER_CHECKPOINT_DIR), so deleting checkpoint rows and rolling the log back does not make
the signer forget what it signed. Every note is written to that directory before its row commits.
"""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import checkpoint_files, merkle, timestamp
from .keys import SigningKeyError, complete_rotation, load_signers, load_verifiers
from .models import Checkpoint
from .note import Checkpoint as CheckpointBody
from .note import NoteError, Verifier, note_signers, sign_note, verify_checkpoint
from .sequencer import read_head
from .store import fetch_nodes

log = logging.getLogger(__name__)


class CheckpointRefused(RuntimeError):
    """The signer would not sign: the tree does not extend a checkpoint signed before."""


def sign_checkpoint() -> Checkpoint | None:
    """Sign the current tree head; return the checkpoint (existing for this size), or None if empty."""
    signers = load_signers()
    verifiers = load_verifiers()
    head = read_head()
    if head.size == 0:
        return None
    existing = Checkpoint.objects.filter(size=head.size).first()
    if existing:
        return existing
    # The root is recomputed from the stored nodes, not taken on the head row's word.
    root = merkle.subtree_root(head.size, fetch_nodes)
    if root != head.root:
        raise CheckpointRefused(f"stored tree of size {head.size} does not match the head root; run verify_ledger")
    _check_extends_earlier(head.size, root, verifiers)
    held = checkpoint_files.read_note(head.size)
    if held is not None:  # signed before, but its row is gone: the same checkpoint again, or refuse
        note = held
        key_id = _opened(held, verifiers, f"{checkpoint_files.note_path(head.size)}", head.size, root)
    else:
        note = sign_note(CheckpointBody(settings.LEDGER_ORIGIN, head.size, root).body(), signers)
        key_id = signers[-1].key_id.hex()
    token = request_timestamp(note, head.size)  # before the row: the row is never updated
    try:
        with transaction.atomic():
            checkpoint = Checkpoint.objects.create(
                size=head.size, root=root, note=note, key_id=key_id, signed_at=timezone.now(), timestamp_token=token
            )
            checkpoint_files.write_note(head.size, note)  # outside the database before the row commits
    except IntegrityError:
        return Checkpoint.objects.get(size=head.size)  # another signer got there first
    except checkpoint_files.CheckpointFileError as exc:
        raise CheckpointRefused(str(exc)) from None
    if held is None and len(signers) > 1:
        complete_rotation(signers[-1])  # this checkpoint carries both signatures: the switch is done
    return checkpoint


def request_timestamp(note: str, size: int) -> bytes | None:
    """An RFC 3161 token over the note from LEDGER_TSA_URL, or None: unset, or the TSA failed.

    A TSA outage never stops signing: the checkpoint is signed without a token, verify_ledger and
    /readyz say it is not timestamped, and the next checkpoint (which covers it) asks again.
    """
    if not settings.LEDGER_TSA_URL:
        return None
    try:
        token = timestamp.request_token(settings.LEDGER_TSA_URL, note, settings.LEDGER_TSA_TIMEOUT)
        if settings.LEDGER_TSA_CERT:
            timestamp.verify_token(token, note, load_tsa_cert())
    except (timestamp.TimestampError, OSError) as exc:
        log.warning("ledger: checkpoint %d signed but not timestamped: %s", size, exc)
        return None
    return token


def load_tsa_cert() -> bytes | None:
    """The TSA certificate tokens must be signed by (LEDGER_TSA_CERT), or None: trust the one embedded."""
    if not settings.LEDGER_TSA_CERT:
        return None
    with open(settings.LEDGER_TSA_CERT, "rb") as handle:
        return handle.read()


def _check_extends_earlier(size: int, root: bytes, verifiers: list[Verifier]) -> None:
    earlier: dict[str, str] = {}
    last = Checkpoint.objects.filter(size__lt=size).order_by("-size").values_list("size", "note").first()
    if last is not None:
        earlier[f"checkpoint {last[0]}"] = last[1]
    latest = checkpoint_files.read_latest()
    if latest is not None and latest not in earlier.values():
        earlier[f"the checkpoint held at {checkpoint_files.checkpoint_dir()}"] = latest
    for where, note in earlier.items():
        try:
            opened = verify_checkpoint(note, verifiers, settings.LEDGER_ORIGIN)
        except NoteError as exc:
            raise CheckpointRefused(f"{where} does not verify: {exc}") from None
        if opened.size > size:
            raise CheckpointRefused(
                f"{where} has size {opened.size}, beyond the log's {size} entries: the database was rolled back"
            )
        if opened.size == size:
            if opened.root != root:
                raise CheckpointRefused(f"{where} has another root for size {size}: the log was rolled back or forked")
            continue
        proof = merkle.consistency_proof(opened.size, size, fetch_nodes)
        try:
            merkle.verify_consistency(opened.size, size, opened.root, root, proof)
        except merkle.ProofError as exc:
            raise CheckpointRefused(
                f"tree of size {size} is not consistent with {where} (size {opened.size}): {exc}"
            ) from None


def _opened(note: str, verifiers: list[Verifier], where: str, size: int, root: bytes) -> str:
    """The key id of a held note for this size, if it is this very checkpoint; else refuse."""
    try:
        opened = verify_checkpoint(note, verifiers, settings.LEDGER_ORIGIN)
        signer = note_signers(note, verifiers)[-1]
    except NoteError as exc:
        raise CheckpointRefused(f"{where} does not verify: {exc}") from None
    if opened.size != size or opened.root != root:
        raise CheckpointRefused(f"{where} holds a different checkpoint for size {size}: rolled back or forked")
    return signer.key_id.hex()


def sign_after_batch() -> Checkpoint | None:
    """A producer finished a batch (a harvest run): without a broker, sign any unsigned tail now."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # the beat schedule signs (ledger.tasks.checkpoint)
    return sign_checkpoint_if_due(force=True)


def sign_checkpoint_if_due(force: bool = False) -> Checkpoint | None:
    """Sign when the unsigned tail is LEDGER_CHECKPOINT_ENTRIES long or older than LEDGER_CHECKPOINT_INTERVAL
    (force: whenever there is one).

    For the embedded default (no broker, so no beat schedule): called after inline appends commit.
    Two indexed reads when nothing is due. Never raises: a refusal is logged (verify_ledger says more).
    """
    head = read_head()
    last = Checkpoint.objects.order_by("-size").values_list("size", "signed_at").first()
    signed_size, signed_at = last if last else (0, None)
    tail = head.size - signed_size
    if tail <= 0:
        return None
    interval = timedelta(seconds=settings.LEDGER_CHECKPOINT_INTERVAL)
    recent = signed_at is not None and timezone.now() - signed_at < interval
    if not force and tail < settings.LEDGER_CHECKPOINT_ENTRIES and recent:
        return None
    try:
        return sign_checkpoint()
    except SigningKeyError:
        return None  # no key yet (`manage.py create_signing_key`): nothing can be signed
    except CheckpointRefused as exc:
        log.error("ledger: checkpoint of size %d refused: %s", head.size, exc)
        return None


def root_b64(checkpoint: Checkpoint) -> str:
    return base64.b64encode(bytes(checkpoint.root)).decode()
