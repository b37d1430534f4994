"""Shared fixtures: personas, a signing key per test, and the append-only triggers' off switch
(only tests that play the database owner use it)."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection

from ledger.append_only import create_statements, drop_statements

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.fixture(autouse=True)
def signing_key(tmp_path, settings):
    """Each test signs with a key of its own, created on demand by tests that need one."""
    settings.LEDGER_SIGNING_KEY = str(tmp_path / "keys" / "ledger.key")
    return settings.LEDGER_SIGNING_KEY


@pytest.fixture
def ledger_key(signing_key):
    from ledger.keys import create_signing_key

    _, _, signer = create_signing_key("test.ledger/log")
    return signer


@contextmanager
def triggers_suspended():
    """Play the database owner: drop the append-only triggers, then put them back."""
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor):
            cursor.execute(statement, None)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in create_statements(connection.vendor, settings.LEDGER_APP_ROLE):
                if "CREATE ROLE" in statement:
                    continue  # grants are not part of what the owner switched off
                cursor.execute(statement, None)


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Real commits (for workers and concurrent processes); emptied afterwards as the owner."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        yield
        with triggers_suspended():
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
