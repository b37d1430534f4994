"""Check, server-side, that one entry is in the latest signed checkpoint: the admin's verify button.

Recomputes the leaf from the stored payload, proves it into the tree of the latest checkpoint from
stored nodes (RFC 9162), and opens the checkpoint's signed note with the ledger's public key.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from . import merkle
from .keys import SigningKeyError, load_verifiers
from .models import Entry
from .note import NoteError, verify_checkpoint
from .proofs import ProofUnavailable, inclusion_proof


@dataclass(frozen=True)
class InclusionCheck:
    seq: int
    ok: bool
    message: str
    tree_size: int | None = None
    root_hex: str = ""
    proof_length: int = 0


def check_inclusion(seq: int) -> InclusionCheck:
    """Is entry seq, as stored now, in the tree the latest checkpoint signed?"""
    entry = Entry.objects.filter(seq=seq).first()
    if entry is None:
        return InclusionCheck(seq, False, f"there is no entry {seq}")
    try:
        proof = inclusion_proof(seq)
    except ProofUnavailable as exc:
        return InclusionCheck(seq, False, f"not verifiable yet: {exc}")
    if proof.checkpoint_note is None:
        return InclusionCheck(seq, False, f"no signed checkpoint for tree size {proof.tree_size}")
    try:
        signed = verify_checkpoint(proof.checkpoint_note, load_verifiers(), settings.LEDGER_ORIGIN)
    except SigningKeyError as exc:
        return InclusionCheck(seq, False, f"cannot check the signature: {exc}")
    except NoteError as exc:
        return InclusionCheck(seq, False, f"checkpoint {proof.tree_size} does not verify: {exc}", proof.tree_size)
    if signed.size != proof.tree_size:
        return InclusionCheck(
            seq, False, f"checkpoint signs size {signed.size}, not {proof.tree_size}", proof.tree_size
        )
    leaf = merkle.leaf_hash(bytes(entry.payload))  # from the payload as stored, not the stored hash
    try:
        merkle.verify_inclusion(seq, signed.size, leaf, proof.path, signed.root)
    except merkle.ProofError as exc:
        return InclusionCheck(seq, False, f"entry {seq} is NOT in checkpoint {signed.size}: {exc}", signed.size)
    edited = entry.align_with_payload()
    if edited:
        name, stored, hashed = edited[0]
        return InclusionCheck(
            seq,
            False,
            f"entry {seq}'s payload is in checkpoint {signed.size}, but its column {name} was edited "
            f"({stored!r}; the payload says {hashed!r})",
            signed.size,
        )
    return InclusionCheck(
        seq,
        True,
        f"entry {seq} is included in the signed checkpoint of size {signed.size}",
        signed.size,
        signed.root.hex(),
        len(proof.path),
    )
