"""An Argo CD API server stand-in: applications in memory, served as Argo CD serves them.

    with ArgoCDSandbox(token="t") as argo:
        argo.put(application("payments", project="shop", namespace="prod", history=[...]))
        Source(kind="argocd", url=argo.url, ...)

Answers GET /api/v1/applications and /api/v1/applications/<name> with the Application shape
(metadata, spec, status.history/operationState/sync/health/summary), and
/api/v1/applications/<name>/manifests?revision= (or, multi-source, ?revisions=&sourcePositions=)
with a ManifestResponse (`manifests`: each object as a JSON string) from what `put_manifests`
gave for that revision (none: an empty list); 401 for a wrong token, 404 for an unknown name,
500 for a revision in `unresolvable` (the repo server cannot find it), each error as Argo CD's
gRPC-gateway object {error, code, message}.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from devkit.sandbox.http import LoopbackServer


class ArgoCDSandbox:
    def __init__(self, token: str) -> None:
        self.token = token
        self.applications: dict[str, dict[str, Any]] = {}
        # (application, source position (0: single source), revision) -> the objects rendered there
        self.manifests: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
        self.unresolvable: set[str] = set()  # revisions gone from Git (a force push): 500 as the repo server says
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    def put(self, app: dict[str, Any]) -> None:
        self.applications[app["metadata"]["name"]] = app

    def put_manifests(self, name: str, revision: str, objects: list[dict[str, Any]], position: int = 0) -> None:
        self.manifests[(name, position, revision)] = objects

    def start(self) -> ArgoCDSandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> ArgoCDSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, Any]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {
                "error": "invalid session: token signature is invalid",
                "code": 16,
                "message": "invalid session",
            }
        if path == "/api/v1/applications":
            items = [copy.deepcopy(a) for _, a in sorted(self.applications.items())]
            return 200, {"metadata": {"resourceVersion": "1000"}, "items": items or None}
        prefix = "/api/v1/applications/"
        if path.startswith(prefix) and path.endswith("/manifests"):
            return self._manifests(unquote(path[len(prefix) : -len("/manifests")]), query)
        if path.startswith(prefix):
            name = unquote(path[len(prefix) :])
            if name in self.applications:
                return 200, copy.deepcopy(self.applications[name])
            message = f'applications.argoproj.io "{name}" not found'
            return 404, {"error": message, "code": 5, "message": message}
        return 404, {"error": "Not Found", "code": 5, "message": "Not Found"}

    def _manifests(self, name: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if name not in self.applications:
            message = f'applications.argoproj.io "{name}" not found'
            return 404, {"error": message, "code": 5, "message": message}
        positions = [int(p) for p in query.get("sourcePositions", [])]
        revisions = query.get("revisions", []) if positions else query.get("revision", [""])[:1]
        if positions and len(positions) != len(revisions):
            message = "number of source positions and revisions must be the same"
            return 400, {"error": message, "code": 3, "message": message}
        objects: list[dict[str, Any]] = []
        for position, revision in zip(positions or [0], revisions, strict=False):
            if revision in self.unresolvable:
                # what the repo server says for a revision it cannot resolve (gRPC Unknown -> HTTP 500)
                message = f"rpc error: code = Unknown desc = unable to resolve '{revision}' to a commit SHA"
                return 500, {"error": message, "code": 2, "message": message}
            objects += self.manifests.get((name, position, revision), [])
        app = self.applications[name]
        destination = app["spec"].get("destination") or {}
        body = {
            "manifests": [json.dumps(o) for o in objects],
            "namespace": destination.get("namespace", ""),
            "server": destination.get("server", ""),
            "revision": revisions[-1] if revisions else "",
            "sourceType": "Directory",
        }
        if positions:
            body["revisions"] = list(revisions)
        return 200, body


def workload(
    name: str, namespace: str, containers: list[tuple[str, str]], init: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    """A Deployment manifest whose pod template runs these (name, image) containers."""
    pod: dict[str, Any] = {"containers": [{"name": n, "image": i} for n, i in containers]}
    if init:
        pod["initContainers"] = [{"name": n, "image": i} for n, i in init]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": name}}, "spec": pod}},
    }


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def history_item(
    id: int, revision: str, started: datetime, finished: datetime, repo: str, user: str | None = None
) -> dict[str, Any]:
    """One status.history item as Argo CD records a completed sync."""
    item: dict[str, Any] = {
        "id": id,
        "revision": revision,
        "deployStartedAt": stamp(started),
        "deployedAt": stamp(finished),
        "source": {"repoURL": repo, "path": "deploy", "targetRevision": "main"},
    }
    item["initiatedBy"] = {"username": user} if user else {"automated": True}
    return item


def operation_state(
    phase: str, revision: str, started: datetime, finished: datetime | None, message: str, user: str | None = None
) -> dict[str, Any]:
    """status.operationState of the last sync (Running, Succeeded, Failed or Error)."""
    initiated = {"username": user} if user else {"automated": True}
    state: dict[str, Any] = {
        "operation": {"initiatedBy": initiated, "sync": {"revision": revision}},
        "phase": phase,
        "message": message,
        "startedAt": stamp(started),
        "syncResult": {"revision": revision, "resources": []},
    }
    if finished is not None:
        state["finishedAt"] = stamp(finished)
    return state


def application(
    name: str,
    *,
    project: str = "default",
    namespace: str = "default",
    cluster: str = "https://kubernetes.default.svc",
    repo: str = "https://git.example.test/acme/deploy.git",
    history: list[dict[str, Any]] | None = None,
    operation: dict[str, Any] | None = None,
    images: list[str] | None = None,
    health: str = "Healthy",
    sync_status: str = "Synced",
    sources: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An Application object shaped like GET /api/v1/applications/<name> answers (with `sources`,
    a multi-source application: spec.sources, history items with revisions and sources)."""
    history = history or []
    revision = history[-1].get("revision", "") if history else ""
    app = {
        "metadata": {"name": name, "namespace": "argocd", "uid": f"uid-{name}", "resourceVersion": "1"},
        "spec": {
            "project": project,
            "destination": {"server": cluster, "namespace": namespace},
            "source": {"repoURL": repo, "path": "deploy", "targetRevision": "main"},
        },
        "status": {
            "history": history,
            "operationState": operation,
            "sync": {"status": sync_status, "revision": revision},
            "health": {"status": health},
            "summary": {"images": images or []},
            "reconciledAt": "2026-01-01T00:00:00Z",
        },
    }
    if sources:
        del app["spec"]["source"]
        app["spec"]["sources"] = sources
        app["status"]["sync"] = {
            "status": sync_status,
            "revisions": history[-1].get("revisions", []) if history else [],
        }
    return app


def multi_source_item(
    id: int, revisions: list[str], started: datetime, finished: datetime, sources: list[dict[str, Any]]
) -> dict[str, Any]:
    """A status.history item of a multi-source application: one revision per source."""
    item = history_item(id, "", started, finished, "")
    del item["revision"], item["source"]
    return {**item, "revisions": list(revisions), "sources": sources}


def notification_body(app: dict[str, Any]) -> bytes:
    """What the `evidence-ledger` template in docs/argocd-notifications.md renders for an app."""
    status = app.get("status") or {}
    body = {
        "app": {
            "metadata": {k: app["metadata"].get(k) for k in ("name", "namespace", "uid")},
            "spec": {"project": app["spec"].get("project"), "destination": app["spec"].get("destination")},
            "status": {k: status.get(k) for k in ("history", "operationState", "sync", "health", "summary")},
        }
    }
    return json.dumps(body).encode()
