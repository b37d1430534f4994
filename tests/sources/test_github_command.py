"""`manage.py harvest --source NAME` runs a source declared in EVIDENCE_SOURCES_FILE inline."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from evidence.sources.models import HarvestRun
from tests.support.forge_fixtures import GITHUB_TOKEN, REPO, kinds


@pytest.fixture
def sources_file(tmp_path, settings, fake_github, monkeypatch):
    monkeypatch.setenv("ACME_GH", GITHUB_TOKEN)
    path = tmp_path / "sources.yaml"
    path.write_text(
        f"""
- name: acme-org
  kind: github
  url: {fake_github.url}
  credential_env: ACME_GH
  organisation: acme
  branches: [main]
  seconds_between_requests: 0
  backoff_factor: 0
"""
    )
    settings.EVIDENCE_SOURCES_FILE = str(path)
    return path


def test_it_harvests_every_repository_of_a_declared_organisation(db, sources_file, github_model):
    github_model.add_repository("acme/ledger")
    github_model.add_merged_pull("acme/ledger", 1, author="zoe", merged_by="bob", merged_at="2026-03-03T10:00:00Z")
    out = StringIO()

    call_command("harvest", "--source", "acme-org", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(" ")[0] for line in lines] == ["acme-org:acme/ledger", f"acme-org:{REPO}"]
    assert all(" succeeded: " in line for line in lines)
    assert kinds()["github.pull_request"] == 4
    assert set(HarvestRun.objects.values_list("target", flat=True)) == {"acme/ledger", REPO}


def test_it_exits_non_zero_when_a_target_fails(db, sources_file, github_model):
    github_model.tokens.clear()

    with pytest.raises(CommandError, match="organisation acme: the credential in \\$ACME_GH was refused"):
        call_command("harvest", "--source", "acme-org", stdout=StringIO())
