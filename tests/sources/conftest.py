"""Fixtures for the source tests: one enabled source per webhook receiver."""

from __future__ import annotations

import pytest

from evidence.sources.models import Source

from .hooks import ARGOCD_TOKEN, FLUX_SECRET, GITHUB_SECRET, GITLAB_TOKEN, PROJECT, REPO


@pytest.fixture
def hook_sources(db, settings) -> dict[str, Source]:
    """One enabled source per receiver, verified by the global secrets; nothing is ever harvested
    (the re-harvest runs after a commit, and tests run inside a transaction that never commits)."""
    settings.GITHUB_WEBHOOK_SECRET = GITHUB_SECRET
    settings.GITLAB_WEBHOOK_TOKEN = GITLAB_TOKEN
    settings.ARGOCD_WEBHOOK_TOKEN = ARGOCD_TOKEN
    settings.FLUX_WEBHOOK_TOKEN = FLUX_SECRET
    common = {"url": "http://127.0.0.1:9", "environment": "prod"}
    return {
        "github": Source.objects.create(name="acme-github", kind="github", config={"repositories": [REPO]}, **common),
        "gitlab": Source.objects.create(name="acme-gitlab", kind="gitlab", config={"projects": [PROJECT]}, **common),
        "argocd": Source.objects.create(name="argo-prod", kind="argocd", **common),
        "flux": Source.objects.create(name="flux-prod", kind="flux", **common),
    }
