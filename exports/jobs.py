"""Requesting and running audit packs: the one place that writes AuditPack rows and pack files."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.checkpoints import CheckpointRefused
from ledger.keys import SigningKeyError

from .errors import PackError
from .models import AuditPack
from .pack.build import build_pack, record_pack
from .pack.scope import Scope, ScopeError

log = logging.getLogger(__name__)

# Failures a person can act on: their message is the pack's error, as is.
EXPECTED = (ScopeError, PackError, SigningKeyError, CheckpointRefused)


def request_pack(
    scope: Scope, user, name: str | None = None, enqueue: Callable[[int], object] | None = None
) -> AuditPack:
    """Queue a pack; `enqueue(pack id)` starts the build once this transaction commits.

    Callers pass `exports.tasks.build_audit_pack.delay` (inline without a broker); the task calls
    run_pack, so this module never imports the tasks. Without enqueue the row is left for the
    caller to run_pack() itself (manage.py audit_pack).
    """
    pack = AuditPack.objects.create(
        scope=scope.to_json(),
        requested_by=user if user is not None and user.is_authenticated else None,
        requested_by_name=name or user.get_username(),
    )
    if enqueue is not None:
        transaction.on_commit(lambda: enqueue(pack.pk))
    return pack


def pack_path(pack: AuditPack, sha256: str) -> Path:
    return Path(settings.PACK_STORAGE_DIR) / f"audit-pack-{pack.pk}-{sha256[:12]}.pdf"


def _write_atomically(path: Path, data: bytes) -> None:
    """Never a half-written PDF under its final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_pack(pack_id: int) -> AuditPack | None:
    """Build, store, record in the ledger, and mark the row; None when the row is gone or done."""
    claimed = AuditPack.objects.filter(
        pk=pack_id, status__in=[AuditPack.Status.QUEUED, AuditPack.Status.RUNNING]
    ).update(status=AuditPack.Status.RUNNING, started_at=timezone.now(), error="")
    if not claimed:
        return None
    pack = AuditPack.objects.get(pk=pack_id)
    try:
        built = build_pack(Scope.from_json(pack.scope), pack.requested_by_name)
        path = pack_path(pack, built.sha256)
        _write_atomically(path, built.pdf)
        try:
            seq = record_pack(built, pack.requested_by_name, pack.pk)
        except BaseException:
            path.unlink(missing_ok=True)  # a pack the ledger does not record is not offered
            raise
    except EXPECTED as exc:
        _fail(pack, str(exc))
        return pack
    except Exception as exc:
        _fail(pack, f"internal error ({type(exc).__name__}); see the worker log")
        log.exception("audit pack %s failed", pack_id)  # the row says it failed; the log says why
        return pack
    pack.status = AuditPack.Status.DONE
    pack.file_path = str(path)
    pack.sha256 = built.sha256
    pack.size = len(built.pdf)
    pack.pages = built.pages
    pack.entry_seq = seq
    pack.finished_at = timezone.now()
    pack.save(update_fields=["status", "file_path", "sha256", "size", "pages", "entry_seq", "finished_at"])
    return pack


def _fail(pack: AuditPack, message: str) -> None:
    pack.status = AuditPack.Status.FAILED
    pack.error = message
    pack.finished_at = timezone.now()
    pack.save(update_fields=["status", "error", "finished_at"])
