"""API tokens (django-rest-knox): the one place that issues them. Knox keeps only a SHA-512 digest
and the first characters (to tell tokens apart); the token itself is shown once, when issued.
Revoking a token is deleting its row (the admin, or `AuthToken.objects.filter(...).delete()`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from knox.models import AuthToken


@dataclass(frozen=True)
class Issued:
    token: str  # the secret: print it once, never store or log it
    row: AuthToken


def token_lifetime(days: int | None = None) -> timedelta:
    """`days`, or API_TOKEN_TTL_DAYS; a token never lives forever."""
    chosen = settings.API_TOKEN_TTL_DAYS if days is None else days
    if chosen < 1:
        raise ValueError(f"days: expected at least 1, got {chosen}")
    return timedelta(days=chosen)


def issue_api_token(user: Any, days: int | None = None) -> Issued:
    """A new token for `user`, expiring after `days` (default API_TOKEN_TTL_DAYS)."""
    row, token = AuthToken.objects.create(user=user, expiry=token_lifetime(days))
    return Issued(token, row)
