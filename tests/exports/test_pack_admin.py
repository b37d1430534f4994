"""The admin: auditors and engineers request a pack with a form and download it from the list."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from exports.models import AuditPack


def staff(client, name: str, group: str | None):
    user = User.objects.create_user(name, is_staff=True)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    client.force_login(user)
    return client


def test_it_requests_a_pack_from_the_admin_form(client, evidence, pack_settings, django_capture_on_commit_callbacks):
    auditor = staff(client, "alice", "auditors")

    form = auditor.get("/admin/exports/auditpack/add/")
    with django_capture_on_commit_callbacks(execute=True):
        posted = auditor.post(
            "/admin/exports/auditpack/add/",
            {"type": "entries", "kinds": "argocd.deployment", "since": "2026-03-01 00:00", "sample": "2"},
        )
    listing = auditor.get("/admin/exports/auditpack/")

    pack = AuditPack.objects.get()
    assert form.status_code == 200 and b"Request an audit pack" in form.content
    assert posted.status_code == 302
    assert pack.status == "done", pack.error
    assert pack.requested_by.username == "alice"
    assert pack.scope["sample"] == 2 and pack.scope["since"] == "2026-03-01T00:00:00.000000Z"
    assert f"/api/v1/packs/{pack.pk}/download/".encode() in listing.content


def test_it_shows_what_is_wrong_with_a_requested_period(client, db):
    engineer = staff(client, "bob", "engineers")

    answer = engineer.post(
        "/admin/exports/auditpack/add/", {"type": "entries", "since": "2026-03-02 00:00", "until": "2026-03-01 00:00"}
    )

    assert answer.status_code == 200
    assert b"until: must be later than since" in answer.content
    assert not AuditPack.objects.exists()


def test_it_refuses_packs_to_staff_outside_the_groups(client, db):
    outsider = staff(client, "charlie", None)
    AuditPack.objects.create(scope={"type": "entries", "seqs": [0]}, requested_by_name="alice")

    assert outsider.get("/admin/exports/auditpack/add/").status_code == 403
    assert outsider.post("/admin/exports/auditpack/add/", {"type": "entries", "kinds": "a.b"}).status_code == 403
    assert outsider.get("/admin/exports/auditpack/").status_code == 403
    assert AuditPack.objects.count() == 1
