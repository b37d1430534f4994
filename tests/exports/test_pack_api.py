"""POST /api/v1/packs/, then status and download: auditors and engineers yes, outsiders no."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from exports.models import AuditPack
from exports.verifier import verify
from ledger.models import Entry

SCOPE = {"type": "entries", "kinds": ["argocd.deployment"]}


@pytest.mark.parametrize("who", ["auditor", "engineer"])
def test_it_builds_a_pack_requested_through_the_api(
    request, who, evidence, pack_settings, ledger_pub, django_capture_on_commit_callbacks
):
    client = request.getfixturevalue(who)

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/packs/", {"scope": SCOPE}, format="json")
    status = client.get(created["Location"])
    download = client.get(status.json()["download"])
    pdf = b"".join(download.streaming_content)

    assert created.status_code == 202, created.content
    assert status.json()["status"] == "done", status.json()
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert hashlib.sha256(pdf).hexdigest() == status.json()["sha256"]
    assert verify(pdf, ledger_pub.read_text()).ok
    entry = Entry.objects.get(seq=status.json()["entry_seq"])
    assert entry.kind == "export.audit_pack"
    assert entry.data["requested_by"] == {"auditor": "alice", "engineer": "bob"}[who]
    assert entry.data["pack_id"] == created.json()["id"]


def test_it_refuses_outsiders(outsider, evidence, pack_settings):
    pack = AuditPack.objects.create(scope=SCOPE, requested_by_name="alice")

    assert outsider.post("/api/v1/packs/", {"scope": SCOPE}, format="json").status_code == 403
    assert outsider.get(f"/api/v1/packs/{pack.pk}/").status_code == 403
    assert outsider.get(f"/api/v1/packs/{pack.pk}/download/").status_code == 403
    assert outsider.get("/api/v1/packs/").status_code == 403
    assert AuditPack.objects.count() == 1


def test_it_asks_anonymous_callers_to_authenticate(db):
    response = APIClient().post("/api/v1/packs/", {"scope": SCOPE}, format="json")

    assert response.status_code == 401
    assert not AuditPack.objects.exists()


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"type": "entries"}, "an entries scope needs seqs, or a filter"),
        ({"type": "quarter"}, "type: 'quarter' is not one of"),
        ({"type": "entries", "kinds": ["x.y"], "since": "2026-13-01"}, "since: '2026-13-01' is not an ISO 8601"),
        ({"type": "deployment"}, "deployment: required for a deployment scope"),
        ({"type": "entries", "seqs": [1], "colour": "red"}, "unknown field(s) colour"),
    ],
)
def test_it_answers_a_bad_scope_with_400_and_writes_nothing(auditor, scope, message):
    response = auditor.post("/api/v1/packs/", {"scope": scope}, format="json")

    assert response.status_code == 400
    assert message in response.json()["scope"][0]
    assert not AuditPack.objects.exists()


def test_it_records_why_a_pack_failed(auditor, evidence, pack_settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = auditor.post("/api/v1/packs/", {"scope": {"type": "entries", "seqs": [999]}}, format="json")

    status = auditor.get(created["Location"]).json()

    assert status["status"] == "failed"
    assert status["error"] == "seqs: 999 not in the ledger's signed tree (size 8)"
    assert auditor.get(f"/api/v1/packs/{status['id']}/download/").status_code == 409


def test_it_does_not_offer_a_pack_still_queued(auditor, db):
    pack = AuditPack.objects.create(scope=SCOPE, requested_by_name="alice")

    response = auditor.get(f"/api/v1/packs/{pack.pk}/download/")

    assert response.status_code == 409
    assert response.json()["detail"] == f"pack {pack.pk} is queued, not ready"
    assert auditor.get(f"/api/v1/packs/{pack.pk}/").json()["download"] is None


def test_it_says_when_a_pack_file_is_gone(auditor, tmp_path):
    pack = AuditPack.objects.create(
        scope=SCOPE, requested_by_name="alice", status="done", file_path=str(tmp_path / "gone.pdf"), sha256="0" * 64
    )

    response = auditor.get(f"/api/v1/packs/{pack.pk}/download/")

    assert response.status_code == 410
    assert response.json()["detail"] == f"pack {pack.pk}: its file is no longer stored"
