"""API tokens (knox): issued once by the command or the admin, stored hashed, expiring, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def erin() -> User:
    user = User.objects.create_user("erin")
    user.groups.add(Group.objects.get_or_create(name="engineers")[0])
    return user


def issue(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def api(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/entries/").status_code


def test_it_prints_a_token_that_opens_the_api_and_stores_only_its_digest(erin):
    token = issue("erin")
    assert api(token) == 200
    row = AuthToken.objects.get(user=erin)
    assert row.digest == hashlib.sha512(token.encode()).hexdigest()
    assert token not in {row.digest, row.token_key}
    assert token.startswith(row.token_key)


def test_it_expires_tokens_after_the_configured_days(erin, settings):
    settings.API_TOKEN_TTL_DAYS = 90
    issue("erin")
    issue("erin", "--days", "7")
    lifetimes = sorted(round((t.expiry - t.created) / timedelta(days=1)) for t in AuthToken.objects.all())
    assert lifetimes == [7, 90]


def test_it_refuses_an_expired_token(erin):
    token = issue("erin", "--days", "1")
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    assert api(token) == 401


def test_it_refuses_a_revoked_token(erin):
    token = issue("erin")
    AuthToken.objects.filter(user=erin).delete()
    assert api(token) == 401


def test_it_fails_in_one_line_for_an_unknown_user_or_a_bad_lifetime(erin):
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        issue("nobody")
    with pytest.raises(CommandError, match="--days: expected at least 1"):
        issue("erin", "--days", "0")
    assert not AuthToken.objects.exists()


def test_it_lets_a_superuser_issue_a_token_in_the_admin_shown_once(client, erin):
    root = User.objects.create_superuser("root", "root@example.test", "pw-root")
    client.force_login(root)
    response = client.post("/admin/knox/authtoken/add/", {"user": erin.pk, "days": "30"}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    token = shown[0].rsplit(" ", 1)[1]
    assert api(token) == 200
    row = AuthToken.objects.get(user=erin)
    assert round((row.expiry - row.created) / timedelta(days=1)) == 30
    assert token not in client.get(f"/admin/knox/authtoken/{row.pk}/change/").content.decode()
    client.post(f"/admin/knox/authtoken/{row.pk}/delete/", {"post": "yes"})
    assert api(token) == 401
