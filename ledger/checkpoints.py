"""Signing checkpoints: one per tree size, never one inconsistent with the last signed."""

from __future__ import annotations

import base64

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import merkle
from .keys import load_signer
from .models import Checkpoint
from .note import Checkpoint as CheckpointBody
from .note import NoteError, verify_checkpoint
from .sequencer import read_head
from .store import fetch_nodes


class CheckpointRefused(RuntimeError):
    """The signer would not sign: the tree does not extend the last signed checkpoint."""


def sign_checkpoint() -> Checkpoint | None:
    """Sign the current tree head; return the checkpoint (existing for this size), or None if empty."""
    signer = load_signer()
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
    last = Checkpoint.objects.filter(size__lt=head.size).order_by("-size").first()
    if last is not None:
        try:
            opened = verify_checkpoint(last.note, signer.verifier(), settings.LEDGER_ORIGIN)
        except NoteError as exc:
            raise CheckpointRefused(f"last checkpoint (size {last.size}) does not verify: {exc}") from None
        proof = merkle.consistency_proof(last.size, head.size, fetch_nodes)
        try:
            merkle.verify_consistency(last.size, head.size, opened.root, root, proof)
        except merkle.ProofError as exc:
            raise CheckpointRefused(
                f"tree of size {head.size} is not consistent with checkpoint {last.size}: {exc}"
            ) from None
    body = CheckpointBody(settings.LEDGER_ORIGIN, head.size, root).body()
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                size=head.size,
                root=root,
                note=signer.sign(body),
                key_id=signer.key_id.hex(),
                signed_at=timezone.now(),
            )
    except IntegrityError:
        return Checkpoint.objects.get(size=head.size)  # another signer got there first


def root_b64(checkpoint: Checkpoint) -> str:
    return base64.b64encode(bytes(checkpoint.root)).decode()
