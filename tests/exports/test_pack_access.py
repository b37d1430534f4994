"""A pack's "Who held which role" section: replayed from the access entries, one row per user and
role held at any moment of the period, citing the entries that granted and took it away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User

from evidence.compliance.custody import build_many
from exports.pack.providers.access import access_section
from exports.pack.providers.custody import DeploymentPack
from exports.pack.scope import Scope
from ledger.append import append_entries
from ledger.envelope import Record
from ledger.models import Entry
from tests.support.custody_story import Story, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def size() -> int:
    return Entry.objects.count()


def test_it_lists_each_role_held_in_the_period_with_its_entries(committing):
    engineers = Group.objects.get_or_create(name="engineers")[0]
    start = datetime.now(UTC)
    with committing():
        mallory = User.objects.create_user("mallory")
    with committing():
        mallory.groups.add(engineers)
    with committing():
        mallory.is_superuser = True
        mallory.save()
    with committing():
        mallory.is_active = False  # deactivated: holds nothing from here on
        mallory.save()
    created, joined, promoted, deactivated = Entry.objects.filter(kind__startswith="access.").order_by("seq")

    section, seqs = access_section(start, datetime.now(UTC), size())

    (table,) = section.tables
    assert [(r[0], r[1], r[3] != "still held", r[4]) for r in table.rows] == [
        ("mallory", "group engineers", True, f"{joined.seq}, {deactivated.seq}"),
        ("mallory", "superuser", True, f"{promoted.seq}, {deactivated.seq}"),
    ]
    assert seqs == [joined.seq, promoted.seq, deactivated.seq]
    assert f"entry {created.seq}" in section.intro


def test_it_leaves_out_roles_that_ended_before_the_period(committing):
    auditors = Group.objects.get_or_create(name="auditors")[0]
    with committing():
        alice = User.objects.create_user("alice")
        alice.groups.add(auditors)
    with committing():
        alice.groups.remove(auditors)
    later = datetime.now(UTC) + timedelta(seconds=1)

    section, seqs = access_section(later, later + timedelta(days=1), size())

    assert section.tables[0].rows == [] and seqs == []


def test_it_says_roles_are_not_evidenced_without_access_entries():
    section, seqs = access_section(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), 0)

    assert "not evidenced" in section.intro and seqs == []


def test_it_puts_the_roles_held_at_the_deployment_in_its_pack():
    prod_policy()
    Story().clean().append()
    at = build_many([deployment()])[0].deployed_at
    state = {"superuser": False, "staff": False, "active": True, "groups": ["engineers"]}
    (granted,) = append_entries(
        [
            Record(
                kind="access.group.added",
                source="access",
                subject="user:erin",
                idempotency_key="access:group.added:erin:test",
                data={"user": "erin", "change": {"groups": ["engineers"]}, "changed_by": "root", "state": state},
                observed_at=at - timedelta(days=3),
                occurred_at=at - timedelta(days=3),
            )
        ]
    )

    content = DeploymentPack().build(Scope("deployment", deployment=str(deployment().pk)), size())

    (section,) = [s for s in content.sections if s.title == "Who held which role"]
    assert [(r[0], r[1], r[3], r[4]) for r in section.tables[0].rows] == [
        ("erin", "group engineers", "still held", str(granted.seq))
    ]
    assert granted.seq in content.seqs  # embedded, so the pack proves it
