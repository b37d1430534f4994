"""Shared fixtures: the personas, a signing key per test, and the append-only triggers' off switch
(only tests that play the database owner use it). Fixtures shared across apps live in tests/support/
and are loaded here as plugins, so tests request them by name and import nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from rest_framework.test import APIClient

from evidence.core.permissions import AUDITORS, ENGINEERS
from ledger.append_only import create_statements, drop_statements

pytest_plugins = [
    "tests.support.projection",  # projected: read models follow the ledger as in the service
    "tests.support.forge_fixtures",  # fake GitHub and GitLab with their sources
    "tests.support.oci_support",  # a local registry, signing keys
    "tests.support.sigstore_support",  # a private Sigstore instance (CA, CT log, Rekor)
    "tests.support.admin_world",  # world: one deployment with each kind of evidence
]

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
REDIS_URL = os.environ.get("REDIS_URL", "")
ROOT = Path(__file__).resolve().parents[1]
needs_worker = pytest.mark.skipif(not (REDIS_URL and ON_POSTGRES), reason="needs PostgreSQL and Redis (REDIS_URL)")


def database_url() -> str:
    """The URL of the test database, for processes the test starts (workers, producers)."""
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'root'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_for(predicate: Callable[[], bool], timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


@contextmanager
def celery_worker(**env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker on the test database and REDIS_URL, with extra environment.

    The worker keeps its checkpoint notes in this test's folder: notes other tests signed with
    their own keys would rightly fail its verification."""
    own = {"DATABASE_URL": database_url(), "LEDGER_CHECKPOINT_DIR": str(settings.LEDGER_CHECKPOINT_DIR)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **own, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def make_user(username: str, group: str | None = None, *, superuser: bool = False, password: str = "") -> User:
    """A staff user (the admin wants staff) in `group`; no password unless asked: hashing one costs
    a third of a second, and only a browser signing in needs one."""
    if superuser:
        user = User.objects.create_superuser(username, f"{username}@example.test", password or None)
    else:
        user = User.objects.create_user(username, f"{username}@example.test", password or None, is_staff=True)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


class Persona(APIClient):
    """A persona's API client, signed in as `user`; the same user signs in to the admin
    (`client.force_login(auditor.user)`). No token row: the admin tests walk every row there is."""

    def __init__(self, user: User) -> None:
        super().__init__()
        self.user = user
        self.force_authenticate(user)


# The personas, everywhere: alice audits, bob engineers, charlie is signed in but in no group,
# ivan is a second engineer (four eyes), root is a superuser; anonymous never signed in.
@pytest.fixture
def auditor(db) -> Persona:
    return Persona(make_user("alice", AUDITORS))


@pytest.fixture
def engineer(db) -> Persona:
    return Persona(make_user("bob", ENGINEERS))


@pytest.fixture
def second_engineer(db) -> Persona:
    """Another engineer, for four eyes: approves what `engineer` proposed."""
    return Persona(make_user("ivan", ENGINEERS))


@pytest.fixture
def outsider(db) -> Persona:
    return Persona(make_user("charlie"))


@pytest.fixture
def superuser(db) -> Persona:
    return Persona(make_user("root", superuser=True))


@pytest.fixture
def anonymous(db) -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True, scope="session")
def _checkpoints_outside_the_project(tmp_path_factory):
    """Session fixtures that sign checkpoints write their notes here, never into the project's var/."""
    settings.LEDGER_CHECKPOINT_DIR = str(tmp_path_factory.mktemp("checkpoints"))
    os.environ["LEDGER_CHECKPOINT_DIR"] = settings.LEDGER_CHECKPOINT_DIR  # and subprocesses' notes


@pytest.fixture(autouse=True)
def signing_key(tmp_path, settings):
    """Each test signs with a key of its own, created on demand by tests that need one."""
    settings.LEDGER_SIGNING_KEY = str(tmp_path / "keys" / "ledger.key")
    settings.LEDGER_CHECKPOINT_DIR = str(tmp_path / "checkpoints")  # and a copy of its checkpoints outside the db
    return settings.LEDGER_SIGNING_KEY


@pytest.fixture(autouse=True)
def inline_tasks(settings):
    """Tasks run inline in tests, even when REDIS_URL is set; `broker` switches a test to the real one."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = not settings.REDIS_URL


@pytest.fixture
def broker(settings):
    """Send tasks to the Redis broker of REDIS_URL, as production does."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    return app


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
def _restore_triggers(django_db_blocker):
    """Torn down last: puts the append-only triggers back after the flush."""
    yield
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            for statement in create_statements(connection.vendor, settings.LEDGER_APP_ROLE):
                if "CREATE ROLE" not in statement:
                    cursor.execute(statement, None)


@pytest.fixture
def committed_db(_restore_triggers, transactional_db):
    """Real commits (for workers and concurrent processes). Afterwards Django flushes the tables,
    which the triggers forbid, so the owner drops them first and _restore_triggers puts them back."""
    yield
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor):
            cursor.execute(statement, None)
