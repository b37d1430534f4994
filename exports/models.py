"""Audit pack requests: what was asked, by whom, and where the signed PDF is."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditPack(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    scope = models.JSONField()  # exports.pack.scope.Scope.to_json(), seed included
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    requested_by_name = models.CharField(max_length=150)  # kept when the user is gone; the ledger entry has it too
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_path = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    pages = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    entry_seq = models.BigIntegerField(null=True, blank=True)  # the export.audit_pack ledger entry

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="exports_pack_status_created")]

    def __str__(self) -> str:
        return f"audit pack {self.pk} ({self.status})"

    def ledger_seq(self) -> int | None:
        """The pack's ledger entry; with a broker it is sequenced after the build, so look it up."""
        if self.entry_seq is not None or not self.sha256:
            return self.entry_seq
        from ledger.models import Entry

        key = f"exports:audit_pack:{self.sha256}"
        return Entry.objects.filter(idempotency_key=key).values_list("seq", flat=True).first()
