"""Start-up configuration: a bad environment value stops the process with one line saying why."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


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
        ({"DORA_HOTFIX_PATTERN": "(hotfix"}, "DORA_HOTFIX_PATTERN: not a regular expression"),
        ({"DORA_FAILURE_WINDOW_HOURS": "0"}, "DORA_FAILURE_WINDOW_HOURS: must be at least 1"),
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


def without_secret_key(**env):
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FILE")
    }
    return {**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env}


def test_it_refuses_the_development_secret_key_with_debug_off():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=without_secret_key(), capture_output=True, text=True
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("configuration error: SECRET_KEY: not set")


def test_it_refuses_a_short_secret_key_with_debug_off():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=without_secret_key(SECRET_KEY="short-and-guessable"),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY: too short or too plain; use at least 50 random characters" in result.stderr


def test_it_allows_the_development_key_when_debug_is_on():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=without_secret_key(DEBUG="true"), capture_output=True
    )
    assert result.returncode == 0, result.stderr


PRODUCTION = {
    "SECRET_KEY": "k3J9x-Vq2LmNp8RtYw4ZaB6cD1eFgH5iJ0kLmNoPqRsTuVwXyZ7_abcdefgh",
    "ALLOWED_HOSTS": "ledger.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://ledger.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_COOKIES": "true",
    "TRUST_X_FORWARDED_PROTO": "true",
}


def test_it_passes_the_deploy_check_with_the_documented_production_variables():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=without_secret_key(**PRODUCTION),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_documents_every_production_variable_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name in [*PRODUCTION, "METRICS_TOKEN", "READY_MAX_SEQUENCER_BACKLOG", "LOG_FORMAT"]:
        assert f"`{name}`" in readme, name


def test_it_fails_the_deploy_check_without_them():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=without_secret_key(SECRET_KEY=PRODUCTION["SECRET_KEY"]),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # HSTS unset
