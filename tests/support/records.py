"""Ledger records for the chain tests, built with the harvesters' own record builders."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from devkit.sandbox.argocd import application, history_item, workload
from evidence.sources.controllers.argocd import application_records, workloads_of
from evidence.sources.environment_rules import Placement
from ledger.envelope import Record
from tests.support.gitops import at, sha

REPO = "https://git.example.test/acme/deploy.git"
HOST = "registry.example.test"
IMAGE = f"{HOST}/acme/payments"


def history(items: list[tuple[int, int, int]]) -> list[dict]:
    """(history id, revision number, minute finished)."""
    return [history_item(i, sha(r), at(m - 1), at(m), REPO) for i, r, m in items]


def argocd_records(
    items: list[tuple[int, int, int]], images: dict[int, Any], seen: int, app: str = "payments"
) -> list[Record]:
    """What a harvest at minute `seen` appends: history, operation, snapshot, and the manifests at
    each revision (`images`: revision number -> the reference its one container names, or the
    manifest objects)."""
    items_ = history(items)
    placement = Placement("prod", app, None)
    records = application_records("argo-prod", application(app, namespace=app, history=items_), placement, at(seen))
    for (_, revision, _), item in zip(items, items_, strict=True):
        given = images[revision]
        objects = [json.dumps(o) for o in ([workload(app, app, [("app", given)])] if isinstance(given, str) else given)]
        data = {
            "environment": "prod",
            "application": app,
            "argocd_application": app,
            "history": item,
            "revisions": [item["revision"]],
            "source_positions": [],
            "workloads": workloads_of(objects),
        }
        key = f"test:manifests:{app}:{item['id']}:{hashlib.sha256(str(given).encode()).hexdigest()[:16]}"
        records.append(Record("argocd.manifests", "argo-prod", f"argocd:{app}", key, data, observed_at=at(seen)))
    return records


def pods_record(
    minute: int,
    containers: list[tuple[str, str, str]],
    n: int = 0,
    app: str = "payments",
    started: int | None = None,
    kind: str = "container",
) -> Record:
    """A kubernetes.pods snapshot of `app` at `minute`, shaped as the Kubernetes harvester records it:
    (container, image, digest) per container, the pod started at minute `started`."""
    begun = at(started).strftime("%Y-%m-%dT%H:%M:%SZ") if started is not None else None
    pod = {
        "name": f"{app}-{n}",
        "namespace": app,
        "environment": "prod",
        "application": app,
        "started_at": begun,
        "containers": [
            {"name": c, "type": kind, "image": image, "imageID": f"{IMAGE}@{d}", "ready": True, "started_at": begun}
            for c, image, d in containers
        ],
    }
    data = {"namespace": app, "cluster": "", "pods": [pod]}
    key = f"test:pods:{app}:{minute}:{n}"
    return Record("kubernetes.pods", "pods", f"kubernetes:{app}", key, data, observed_at=at(minute))
