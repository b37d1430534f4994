"""manage.py create_api_token USER [--days N]: issue an API token and print it, once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.core.tokens import issue_api_token


class Command(BaseCommand):
    help = "Issue an API token for USER (stored hashed; printed once; expires after --days or API_TOKEN_TTL_DAYS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="user name")
        parser.add_argument("--days", type=int, default=None, help="lifetime in days (default API_TOKEN_TTL_DAYS)")

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        try:
            user = model._default_manager.get_by_natural_key(options["user"])
        except model.DoesNotExist:
            raise CommandError(f"create_api_token: no user named {options['user']!r}") from None
        if not user.is_active:
            raise CommandError(f"create_api_token: user {options['user']!r} is deactivated")
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError(f"create_api_token: --days: expected at least 1, got {days}")
        issued = issue_api_token(user, days)
        self.stderr.write(f"token for {user.get_username()}, expires {issued.row.expiry:%Y-%m-%d %H:%M} UTC:")
        self.stdout.write(issued.token)
