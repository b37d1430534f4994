"""`manage.py running`: the answer for people at a terminal, and one line when it cannot answer."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from devkit.sandbox.argocd import application, history_item
from tests.support.gitops import at, digest, record_argocd, sha

pytestmark = pytest.mark.usefixtures("projected")
REPO = "https://git.example.test/acme/deploy.git"


@pytest.fixture
def payments(db):
    history = [history_item(1, sha(1), at(9), at(10), REPO), history_item(2, sha(2), at(99), at(100), REPO)]
    record_argocd(application("payments", history=history, images=[f"r.example.test/p@{digest(2)}"]), "prod")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("running", *args, stdout=out)
    return out.getvalue()


def test_it_prints_what_ran_at_a_time(payments):
    out = run("--environment", "prod", "--at", "2026-03-01T11:00Z")
    assert "prod at 2026-03-01T11:00:00+00:00: 1 application(s)" in out
    assert f"payments  {sha(2)[:12]}  since 2026-03-01T10:40:00+00:00  succeeded" in out
    assert digest(2) in out


def test_it_prints_a_diff_against_an_earlier_time(payments):
    out = run("--environment", "prod", "--at", "~1", "--compare-at", "~0")
    assert f"~ payments  {sha(1)[:12]} -> {sha(2)[:12]}" in out
    assert f"+ {digest(2)}" in out


def test_it_fails_with_one_line_for_a_bad_time(payments):
    with pytest.raises(CommandError, match=r"^running: at 'soonish': expected an ISO 8601 time"):
        run("--environment", "prod", "--at", "soonish")


def test_it_exits_non_zero_from_the_shell(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "running", "--environment", "prod", "--at", "~x"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3",
            "SECRET_KEY_FILE": os.environ["SECRET_KEY_FILE"],  # made by devkit.settings for the test run
        },
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("CommandError: running: at '~x'")
