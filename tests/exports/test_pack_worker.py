"""With Redis, a pack requested through the API is built by a real Celery worker."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from exports.models import AuditPack
from ledger.append import append_entries
from ledger.models import Entry

from ..conftest import celery_worker, needs_worker, wait_for
from .conftest import deployment


@pytest.fixture
def worker(committed_db, broker, ledger_key, pack_settings):
    with celery_worker(
        LEDGER_SIGNING_KEY=pack_settings.LEDGER_SIGNING_KEY,
        PACK_SIGNING_CERT=pack_settings.PACK_SIGNING_CERT,
        PACK_SIGNING_KEY=pack_settings.PACK_SIGNING_KEY,
        PACK_SIGNING_KEY_PASSWORD=pack_settings.PACK_SIGNING_KEY_PASSWORD,
        PACK_STORAGE_DIR=pack_settings.PACK_STORAGE_DIR,
    ) as proc:
        yield proc


@pytest.mark.worker
@needs_worker
def test_it_builds_a_requested_pack_in_a_worker(worker):
    append_entries([deployment(n, day=n) for n in range(1, 4)])
    assert wait_for(lambda: Entry.objects.count() == 3), worker.stderr.read1().decode()
    auditor = User.objects.create_user("alice")
    auditor.groups.add(Group.objects.get_or_create(name="auditors")[0])
    client = APIClient()
    client.force_authenticate(auditor)

    created = client.post(
        "/api/v1/packs/", {"scope": {"type": "entries", "kinds": ["argocd.deployment"]}}, format="json"
    )

    assert created.json()["status"] == "queued"  # nothing built in the request
    pack_id = created.json()["id"]
    assert wait_for(lambda: AuditPack.objects.get(pk=pack_id).status in ("done", "failed")), worker.stderr.read1()
    pack = AuditPack.objects.get(pk=pack_id)
    assert pack.status == "done", pack.error
    assert hashlib.sha256(Path(pack.file_path).read_bytes()).hexdigest() == pack.sha256
    assert wait_for(lambda: pack.ledger_seq() is not None)  # the pack's own entry, sequenced by the worker
