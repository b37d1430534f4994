"""A Kubernetes API server stand-in: Pods, Flux Kustomizations and HelmReleases in memory.

    with KubernetesSandbox(token="t") as kube:
        kube.add(pod("web-1", "shop", {"app.kubernetes.io/instance": "web"}, [("web", image, image_id)]))
        kube.add(kustomization("web", "flux-system", history=[...]))

Serves the list endpoints the harvesters call, as the API server answers them (List objects,
`Status` objects for errors), so the real `kubernetes` client can be pointed at it.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from devkit.sandbox.http import LoopbackServer

# kind -> (group/version as in the URL, plural)
RESOURCES = {
    "Pod": ("v1", "pods"),
    "Kustomization": ("kustomize.toolkit.fluxcd.io/v1", "kustomizations"),
    "HelmRelease": ("helm.toolkit.fluxcd.io/v2", "helmreleases"),
}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class KubernetesSandbox:
    def __init__(self, token: str) -> None:
        self.token = token
        self.objects: dict[str, list[dict[str, Any]]] = {kind: [] for kind in RESOURCES}
        self.served = set(RESOURCES)  # drop a kind to play a cluster without that controller
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    def add(self, obj: dict[str, Any]) -> None:
        kind, meta = obj["kind"], obj["metadata"]
        items = self.objects[kind]
        items[:] = [
            o for o in items if (o["metadata"]["namespace"], o["metadata"]["name"]) != (meta["namespace"], meta["name"])
        ]
        items.append(obj)

    def clear(self, kind: str) -> None:
        self.objects[kind] = []

    def start(self) -> KubernetesSandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> KubernetesSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, Any]:
        if (
            headers.get("Authorization") != f"Bearer {self.token}"
            and headers.get("authorization") != f"Bearer {self.token}"
        ):
            return 401, _status(401, "Unauthorized", "Unauthorized")
        for kind, (group_version, plural) in RESOURCES.items():
            base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
            namespace = None
            if path == f"{base}/{plural}":
                namespace = "*"
            elif path.startswith(f"{base}/namespaces/") and path.endswith(f"/{plural}"):
                namespace = path[len(f"{base}/namespaces/") : -len(f"/{plural}")]
            if namespace is None or "/" in namespace:
                continue
            if kind not in self.served:
                break
            items = [copy.deepcopy(o) for o in self.objects[kind] if namespace in ("*", o["metadata"]["namespace"])]
            return 200, {
                "apiVersion": group_version,
                "kind": f"{kind}List",
                "metadata": {"resourceVersion": "4242"},
                "items": items,
            }
        return 404, _status(404, "NotFound", "the server could not find the requested resource")


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(
    name: str,
    namespace: str,
    labels: dict[str, str],
    containers: list[tuple[str, str, str]],
    phase: str = "Running",
    *,
    init: list[tuple[str, str, str]] | None = None,
    ephemeral: list[tuple[str, str, str]] | None = None,
    started: datetime | None = None,
    ephemeral_started: datetime | None = None,
) -> dict[str, Any]:
    """A Pod with one status item per (name, image, imageID): containerStatuses, and
    initContainerStatuses (terminated, completed) and ephemeralContainerStatuses when given."""
    begun = stamp(started) if started else "2026-03-01T08:00:05Z"

    def running(items: list[tuple[str, str, str]], begun: str = begun) -> list[dict[str, Any]]:
        return [
            {
                "name": c,
                "image": image,
                "imageID": image_id,
                "ready": True,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": begun}},
            }
            for c, image, image_id in items
        ]

    status: dict[str, Any] = {"phase": phase, "startTime": begun, "containerStatuses": running(containers)}
    spec: dict[str, Any] = {"containers": [{"name": c, "image": image} for c, image, _ in containers]}
    if init:
        spec["initContainers"] = [{"name": c, "image": image} for c, image, _ in init]
        status["initContainerStatuses"] = [
            {
                "name": c,
                "image": image,
                "imageID": image_id,
                "ready": True,
                "restartCount": 0,
                "state": {
                    "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": begun, "finishedAt": begun}
                },
            }
            for c, image, image_id in init
        ]
    if ephemeral:
        spec["ephemeralContainers"] = [{"name": c, "image": image} for c, image, _ in ephemeral]
        status["ephemeralContainerStatuses"] = running(
            ephemeral, stamp(ephemeral_started) if ephemeral_started else begun
        )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "uid": f"uid-{namespace}-{name}",
            "creationTimestamp": begun,
        },
        "spec": spec,
        "status": status,
    }


def condition(status: str, reason: str, message: str, when: datetime) -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp(when),
        "observedGeneration": 1,
    }


def kustomization_history_item(
    revision: str, digest: str, first: datetime, last: datetime, status: str = "ReconciliationSucceeded", total: int = 1
) -> dict[str, Any]:
    """A Kustomization status.history item (kustomize-controller keeps the last five, newest first)."""
    return {
        "digest": digest,
        "firstReconciled": stamp(first),
        "lastReconciled": stamp(last),
        "lastReconciledDuration": "2.5s",
        "lastReconciledStatus": status,
        "totalReconciliations": total,
        "metadata": {"revision": revision},
    }


def kustomization(
    name: str, namespace: str, history: list[dict[str, Any]], ready: dict[str, Any] | None = None
) -> dict[str, Any]:
    applied = history[0]["metadata"]["revision"] if history else ""
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-ks-{name}", "generation": 1},
        "spec": {
            "interval": "10m",
            "path": f"./apps/{name}",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        },
        "status": {
            "observedGeneration": 1,
            "lastAppliedRevision": applied,
            "lastAttemptedRevision": applied,
            "conditions": [ready] if ready else [],
            "history": history,
        },
    }


def helm_snapshot(version: int, chart_version: str, when: datetime, status: str = "deployed") -> dict[str, Any]:
    """A HelmRelease status.history snapshot (helm-controller v2 keeps the last five, newest first)."""
    return {
        "name": "podinfo",
        "namespace": "apps",
        "version": version,
        "status": status,
        "chartName": "podinfo",
        "chartVersion": chart_version,
        "appVersion": chart_version,
        "configDigest": "sha256:" + f"{version:064x}",
        "digest": "sha256:" + f"{version + 1000:064x}",
        "firstDeployed": stamp(when),
        "lastDeployed": stamp(when),
    }


def helmrelease(name: str, namespace: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-hr-{name}", "generation": 1},
        "spec": {
            "interval": "5m",
            "chart": {"spec": {"chart": name, "sourceRef": {"kind": "HelmRepository", "name": "charts"}}},
        },
        "status": {
            "observedGeneration": 1,
            "lastAttemptedRevision": history[0]["chartVersion"] if history else "",
            "history": history,
            "conditions": [],
        },
    }
