"""Changes to who may do what become `access.*` ledger entries when their transaction commits:
group membership, superuser/staff/active flags, users, API tokens; each with the user's role state."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from knox.models import AuthToken

from evidence.core.tokens import issue_api_token
from ledger.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """`with committing():` runs the block's on-commit callbacks at its end, as a real commit would
    (the test's own transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def access_entries(kind: str | None = None) -> list[Entry]:
    entries = Entry.objects.filter(kind__startswith="access.").order_by("seq")
    return [e for e in entries if kind is None or e.kind == kind]


def test_it_records_a_new_user_and_each_group_they_join_or_leave(committing):
    engineers = Group.objects.get_or_create(name="engineers")[0]
    with committing():
        mallory = User.objects.create_user("mallory")
    with committing():
        mallory.groups.add(engineers)
    with committing():
        mallory.groups.remove(engineers)

    created, added, removed = access_entries()
    assert (created.kind, added.kind, removed.kind) == (
        "access.user.created",
        "access.group.added",
        "access.group.removed",
    )
    assert {e.subject for e in (created, added, removed)} == {"user:mallory"}
    assert added.data["change"] == {"groups": ["engineers"]}
    assert added.data["state"]["groups"] == ["engineers"]
    assert removed.data["state"]["groups"] == []


def test_it_records_membership_changed_from_the_groups_side_and_by_clearing(committing):
    auditors = Group.objects.get_or_create(name="auditors")[0]
    alice, bob = User.objects.create_user("alice"), User.objects.create_user("bob")
    with committing():
        auditors.user_set.add(alice, bob)
    with committing():
        alice.groups.clear()

    added = access_entries("access.group.added")
    assert [(e.subject, e.data["change"]["groups"]) for e in added] == [
        ("user:alice", ["auditors"]),
        ("user:bob", ["auditors"]),
    ]
    (cleared,) = access_entries("access.group.removed")
    assert (cleared.subject, cleared.data["change"], cleared.data["state"]["groups"]) == (
        "user:alice",
        {"groups": ["auditors"]},
        [],
    )


def test_it_adds_nothing_when_a_user_joins_a_group_they_are_in_or_changes_password(committing):
    auditors = Group.objects.get_or_create(name="auditors")[0]
    with committing():
        alice = User.objects.create_user("alice")
        alice.groups.add(auditors)
    with committing():
        alice.groups.add(auditors)
        alice.set_password("new one")
        alice.save()

    assert [e.kind for e in access_entries()] == ["access.user.created", "access.group.added"]


def test_it_records_superuser_and_staff_grants_and_a_deactivation(committing):
    carol = User.objects.create_user("carol")
    with committing():
        carol.is_superuser = carol.is_staff = True
        carol.save()
    with committing():
        carol.is_active = False
        carol.save()

    granted, deactivated = access_entries("access.user.flags")
    assert granted.data["change"] == {
        "is_superuser": {"from": False, "to": True},
        "is_staff": {"from": False, "to": True},
    }
    assert deactivated.data["change"] == {"is_active": {"from": True, "to": False}}
    assert deactivated.data["state"] == {"superuser": True, "staff": True, "active": False, "groups": []}


def test_it_records_token_issue_and_revoke_without_the_token(committing):
    erin = User.objects.create_user("erin")
    with committing():
        issued = issue_api_token(erin, days=7)
    with committing():
        AuthToken.objects.filter(user=erin).delete()

    (issue,) = access_entries("access.token.issued")
    (revoke,) = access_entries("access.token.revoked")
    assert issue.data["change"]["token"] == revoke.data["change"]["token"]
    assert issue.data["change"]["expiry"].startswith(f"{issued.row.expiry:%Y-%m-%d}")
    payloads = bytes(issue.payload) + bytes(revoke.payload)
    assert issued.token.encode() not in payloads
    assert issued.row.digest.encode() not in payloads
    assert issued.row.token_key.encode() not in payloads


def test_it_leaves_no_evidence_of_a_change_that_rolled_back(committing):
    with committing(), pytest.raises(RuntimeError), transaction.atomic():
        User.objects.create_user("ghost", is_superuser=True)
        raise RuntimeError("rolled back")

    assert access_entries() == []


def test_it_names_the_admin_who_made_the_change(client, committing):
    root = User.objects.create_superuser("root", "root@example.test", "pw-root")
    dave = User.objects.create_user("dave", is_staff=True)
    engineers = Group.objects.get_or_create(name="engineers")[0]
    client.force_login(root)
    form = {"username": "dave", "is_active": "on", "is_staff": "on", "groups": [engineers.pk]}
    form |= {"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01"}
    form |= {"initial-date_joined_1": "00:00:00", "last_login_0": "", "last_login_1": ""}
    with committing():
        answer = client.post(f"/admin/auth/user/{dave.pk}/change/", form)

    assert answer.status_code == 302, answer.content.decode()[:2000]
    (added,) = access_entries("access.group.added")
    assert (added.subject, added.data["changed_by"]) == ("user:dave", "root")
