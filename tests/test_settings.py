"""Start-up configuration: a bad environment value stops the process with one line saying why."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def start(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://db/ledger"}, "DATABASE_URL: unsupported scheme 'mysql'"),
        ({"DATABASE_URL": "postgres://host"}, "DATABASE_URL: PostgreSQL URL needs a database name"),
        ({"DATABASE_URL": "sqlite:///"}, "DATABASE_URL: expected sqlite:///relative/path"),
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL: unsupported scheme 'http'"),
        ({"LEDGER_CHECKPOINT_INTERVAL": "soon"}, "LEDGER_CHECKPOINT_INTERVAL: expected a whole number"),
        ({"DEBUG": "maybe"}, "DEBUG: expected true or false"),
        ({"SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE: cannot read /nonexistent/secret"),
    ],
)
def test_it_stops_with_one_line_naming_the_variable(env, message):
    result = start(**env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [f"configuration error: {lines[0].split('configuration error: ')[1]}"]
    assert message in lines[0]


def test_it_uses_sqlite_in_the_project_folder_by_default():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings as s; "
         "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.CELERY_TASK_ALWAYS_EAGER)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
             "DJANGO_SETTINGS_MODULE": "config.settings"},
    )  # fmt: skip
    engine, name, eager = result.stdout.split()
    assert engine == "django.db.backends.sqlite3" and name == str(ROOT / "ledger.sqlite3") and eager == "True"


def test_it_parses_compose_with_the_five_services():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(compose["services"])
    assert "DATABASE_URL" in compose["x-app"]["environment"]
