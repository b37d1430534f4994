"""The groups migration: auditors view everything and nothing more; engineers configure, never edit evidence."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from evidence.core.access import ACCESS_APPS, AUDITORS, ENGINEERS, on_post_migrate

pytestmark = pytest.mark.django_db


def codenames(group: str) -> set[tuple[str, str]]:
    perms = Group.objects.get(name=group).permissions.values_list("content_type__app_label", "codename")
    return set(perms)


def every_view() -> set[tuple[str, str]]:
    return {
        (m._meta.app_label, f"view_{m._meta.model_name}")
        for m in apps.get_models()
        if m._meta.app_label not in ACCESS_APPS
    }


def test_it_gives_auditors_view_on_every_model_and_nothing_else():
    assert codenames(AUDITORS) == every_view()


def test_it_gives_engineers_view_everywhere_and_edits_only_on_configuration():
    granted = codenames(ENGINEERS)
    assert every_view() <= granted
    assert granted - every_view() == {
        ("sources", "add_source"),
        ("sources", "change_source"),
        ("sources", "delete_source"),
        ("sources", "harvest_source"),
        ("compliance", "add_policy"),
        ("compliance", "add_riskacceptance"),
        ("exports", "add_auditpack"),
    }


@pytest.mark.parametrize("group", [AUDITORS, ENGINEERS])
def test_it_gives_no_group_any_permission_on_users_groups_sessions_or_tokens(group):
    on_post_migrate(sender=None, app_config=apps.get_app_config("auth"))
    on_post_migrate(sender=None, app_config=apps.get_app_config("knox"))
    held = {label for label, _ in codenames(group)}
    assert held & ACCESS_APPS == set()
    assert {"auth", "knox", "sessions"} <= ACCESS_APPS


def test_it_grants_view_on_a_model_added_later_when_migrations_run():
    later = ContentType.objects.create(app_label="compliance", model="policylater")
    view = Permission.objects.create(content_type=later, codename="view_policylater", name="Can view policy later")
    change = Permission.objects.create(content_type=later, codename="change_policylater", name="Can change")

    on_post_migrate(sender=None, app_config=apps.get_app_config("compliance"))

    assert Group.objects.get(name=AUDITORS).permissions.filter(pk=view.pk).exists()
    assert Group.objects.get(name=ENGINEERS).permissions.filter(pk=view.pk).exists()
    assert not Group.objects.filter(permissions=change).exists()
