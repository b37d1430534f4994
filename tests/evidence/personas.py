"""The API personas: an auditor, an engineer (and a second one), an outsider (signed in, in no group),
anonymous."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient


def _client(name: str, group: str | None) -> APIClient:
    user = User.objects.create_user(name)  # no password: hashing one costs a third of a second
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def auditor(db) -> APIClient:
    return _client("auditor", "auditors")


@pytest.fixture
def engineer(db) -> APIClient:
    return _client("engineer", "engineers")


@pytest.fixture
def second_engineer(db) -> APIClient:
    """Another engineer, for four eyes: approves what `engineer` proposed."""
    return _client("erin", "engineers")


@pytest.fixture
def outsider(db) -> APIClient:
    return _client("outsider", None)


@pytest.fixture
def anonymous(db) -> APIClient:
    return APIClient()
