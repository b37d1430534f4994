"""Ledger tables. Only `ledger.append` (queue) and `ledger.sequencer` (everything else) write them.

Entries, tree nodes and checkpoints are append-only in the database itself (see migration 0002).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from .envelope import ENVELOPE_COLUMNS, differing_columns, envelope_columns, open_envelope


class QueuedEntry(models.Model):
    """A record accepted from a producer and durable, waiting for the sequencer to give it a seq."""

    id = models.BigAutoField(primary_key=True)
    idempotency_key = models.CharField(max_length=512, unique=True)
    kind = models.CharField(max_length=100)
    source = models.CharField(max_length=200)
    subject = models.CharField(max_length=1024)
    observed_at = models.DateTimeField()
    occurred_at = models.DateTimeField(null=True)
    payload = models.BinaryField()
    # SHA-256(0x00 || payload), hashed by the producer so the sequencer need not; the sequencer checks
    # it against the bytes it moves. NULL on rows queued before the column existed.
    leaf_hash = models.BinaryField(null=True)
    queued_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_queue"


class Entry(models.Model):
    """One sequenced fact: the canonical envelope bytes exactly as hashed, and its hashes."""

    seq = models.BigIntegerField(primary_key=True)  # leaf index in the Merkle tree, from 0
    idempotency_key = models.CharField(max_length=512, unique=True)
    kind = models.CharField(max_length=100)
    source = models.CharField(max_length=200)
    subject = models.CharField(max_length=1024)
    observed_at = models.DateTimeField()
    occurred_at = models.DateTimeField(null=True)
    payload = models.BinaryField()
    leaf_hash = models.BinaryField()
    chain_hash = models.BinaryField()
    sequenced_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_entry"
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["kind", "seq"], name="ledger_entry_kind_seq"),
            models.Index(fields=["subject", "seq"], name="ledger_entry_subject_seq"),
            models.Index(fields=["observed_at"], name="ledger_entry_observed"),
            models.Index(fields=["occurred_at"], name="ledger_entry_occurred"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.subject}"

    @property
    def envelope(self) -> dict[str, Any]:
        return open_envelope(bytes(self.payload))

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.envelope["data"])

    def align_with_payload(self) -> list[tuple[str, Any, Any]]:
        """Set the denormalised columns to what the canonical payload says; return those that differed.

        The payload is what the hashes prove; kind, subject, source, the times and the key are copies
        kept for indexes, which whoever owns the database can edit. Readers that derive conclusions
        (the projectors) call this first, so they read the proven values.
        """
        envelope = self.envelope
        wrong = differing_columns({name: getattr(self, name) for name in ENVELOPE_COLUMNS}, envelope)
        if wrong:
            for name, value in envelope_columns(envelope).items():
                setattr(self, name, value)
        return wrong


class TreeNode(models.Model):
    """A complete Merkle subtree of 2**level leaves (level >= 1); level 0 lives in Entry.leaf_hash."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField()

    class Meta:
        db_table = "ledger_treenode"


class Head(models.Model):
    """The one row the sequencer locks; updated only by compare-and-swap on (size, root)."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField()
    chain_hash = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "ledger_head"


class Checkpoint(models.Model):
    """A signed tree head: a C2SP tlog-checkpoint in a C2SP signed note, one per tree size."""

    size = models.BigIntegerField(primary_key=True)
    root = models.BinaryField()
    note = models.TextField()
    key_id = models.CharField(max_length=8)
    signed_at = models.DateTimeField()
    timestamp_token = models.BinaryField(null=True, blank=True)  # RFC 3161, when a TSA is set

    class Meta:
        db_table = "ledger_checkpoint"
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"
