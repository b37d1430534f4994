"""Helpers for the GitOps tests: sources pointing at the sandboxes, and times."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from evidence.sources.models import Source

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ARGO_TOKEN = "argo-api-token-for-tests"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sha(n: int) -> str:
    """A 40-hex Git revision, distinct per n (and in its first characters)."""
    return hashlib.sha256(f"revision {n}".encode()).hexdigest()[:40]


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def argocd_source(url: str, monkeypatch: Any, name: str = "argo-prod", **config: Any) -> Source:
    monkeypatch.setenv("ARGO_TOKEN_TEST", ARGO_TOKEN)
    return Source.objects.create(
        name=name,
        kind="argocd",
        url=url,
        credential_env="ARGO_TOKEN_TEST",
        environment=config.pop("environment", "prod"),
        config=config,
    )


KUBE_TOKEN = "kube-api-token-for-tests"


def kube_source(url: str, monkeypatch: Any, kind: str, name: str, **config: Any) -> Source:
    monkeypatch.setenv("KUBE_TOKEN_TEST", KUBE_TOKEN)
    return Source.objects.create(
        name=name,
        kind=kind,
        url=url,
        credential_env="KUBE_TOKEN_TEST",
        environment=config.pop("environment", "prod"),
        config=config,
    )


def record_argocd(app: dict[str, Any], environment: str, source: str = "argo-prod") -> None:
    """Append what a harvest of this Application would (the real record builder and write path)."""
    from evidence.sources.controllers.argocd import application_records
    from evidence.sources.environment_rules import Placement
    from ledger.append import append_entries

    name = app["metadata"]["name"]
    append_entries(application_records(source, app, Placement(environment, name, None), T0 + timedelta(days=30)))
