"""What controller entries say about history: Argo CD history ids and Helm release versions.

Pure readers of the data the harvesters and webhooks record (no Django, no client library), used
by the harvesters to tell what the ledger already holds and by the read models' gap projector
(projectors/deployments/gaps.py) to derive what rolled over unseen.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

ARGOCD_HISTORY_KINDS = ("argocd.deployment", "argocd.webhook")  # entries that carry status.history items
HELM_KINDS = ("flux.helmrelease", "flux.event")  # entries that name Helm release versions
FLUX_HISTORY_KEPT = 5  # status.history items kustomize-controller and helm-controller keep
HELM_RELEASE = re.compile(r"\.v(\d+)\b")  # "release apps/podinfo.v7" in helm-controller event messages
CLOCK_SKEW = timedelta(hours=1)  # a controller's clock against ours, when bounding a ledger search by time


def argocd_history_ids(kind: str, data: dict[str, Any]) -> set[int]:
    """The status.history ids an `argocd.deployment` or `argocd.webhook` entry's data holds."""
    if kind == "argocd.deployment":
        items = [data.get("history")]
    elif kind == "argocd.webhook":
        app = (data.get("delivery") or {}).get("app") or {}
        items = (app.get("status") or {}).get("history") or []
    else:
        return set()
    return {h["id"] for h in items if isinstance(h, dict) and isinstance(h.get("id"), int)}


def helm_versions(kind: str, data: dict[str, Any]) -> set[int]:
    """Helm release versions a `flux.helmrelease` (status.history) or `flux.event` entry's data names."""
    if kind == "flux.helmrelease":
        history = (data.get("status") or {}).get("history") or []
        return {h["version"] for h in history if isinstance(h, dict) and isinstance(h.get("version"), int)}
    if kind == "flux.event":
        found = HELM_RELEASE.search(str((data.get("event") or {}).get("message") or ""))
        return {int(found.group(1))} if found else set()
    return set()
