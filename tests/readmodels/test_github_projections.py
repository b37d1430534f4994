"""Forge read models are rebuilt from the ledger alone, identically."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from devkit.sandbox.github import ReviewDismissal
from evidence.readmodels.models import (
    Approval,
    ProtectionObservation,
    ProtectionSnapshot,
    PullRequest,
    PullRequestCommit,
)
from tests.support.forge_fixtures import PROJECT, REPO, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models

MODELS = (PullRequest, PullRequestCommit, Approval, ProtectionSnapshot, ProtectionObservation)


def snapshot_rows() -> dict[str, list[tuple]]:
    """Every row of the forge read models, without surrogate ids, in a stable order."""
    out = {}
    for model in MODELS:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "pull_request_id")]
        rows = list(model.objects.values_list(*fields))
        if model in (PullRequestCommit, Approval):  # name the change by its identity, not its id
            rows = [
                (*row, obj.pull_request and str(obj.pull_request))
                for row, obj in zip(rows, model.objects.select_related("pull_request"), strict=True)
            ]
        out[model.__name__] = sorted(rows, key=repr)
    return out


def test_it_rebuilds_every_forge_row_identically(github_source, github_model, gitlab_source, gitlab_model):
    pull = github_model.repositories[REPO].pulls[3]
    pull.dismissals.append(ReviewDismissal(6001, pull.reviews[0].id, "erin", "2026-03-01T11:59:00Z"))
    run(github_source, REPO)
    github_model.repositories[REPO].protection["main"]["enforce_admins"] = False
    run(github_source, REPO)
    run(gitlab_source, PROJECT)
    gitlab_model.projects[PROJECT].merge_requests[1].approvals.pop()  # carol's approval revoked
    gitlab_model.projects[PROJECT].merge_requests[1].updated_at = "2026-03-03T00:00:00Z"
    run(gitlab_source, PROJECT)
    before = snapshot_rows()

    call_command("rebuild_projections", stdout=open("/dev/null", "w"))

    assert snapshot_rows() == before
    assert len(before["PullRequest"]) == 5
    assert len(before["ProtectionSnapshot"]) == 3
    assert any(row[0] == "gitlab" and "REVOKED" in row for row in before["Approval"])
