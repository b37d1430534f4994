"""Argo CD: applications, their deployment history and sync operations, over the REST API.

Records per application: `argocd.application` (a snapshot of sync, health, destination and
images, new only when those change), `argocd.deployment` (one per status.history item) and
`argocd.sync_operation` (status.operationState, which also keeps the failed and errored syncs
that Argo CD's history drops) and `argocd.manifests` (the images the manifests at each history
revision name, asked once per history item; multi-source applications per source position).
Argo CD keeps only ten history items. The harvest-run entry says
which history ids each application listed, and which rolled over since the last harvest; the run
is partial when no ledger entry (a webhook delivery) holds those. Whether that is a gap in the
evidence is the gap projector's call, made from the ledger alone: what a harvest appends never
depends on read models, so never on how far the projector has got.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests

from evidence.core.digests import compact_json_hash16
from evidence.core.jsonvalues import without_floats
from evidence.core.times import parse_time
from evidence.sources.controllers.history import ARGOCD_HISTORY_KINDS, CLOCK_SKEW, argocd_history_ids
from evidence.sources.environment_rules import MappingError, Placement, place
from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult
from ledger.envelope import Record
from ledger.models import Entry

if TYPE_CHECKING:
    from evidence.sources.models import Source

ALL = "*"
TIMEOUT = 30


class ArgoCDClient:
    """The few Argo CD API calls the ledger makes; one narrow error per known failure."""

    def __init__(self, base_url: str, token: str, timeout: float = TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept"] = "application/json"
        self.timeout = timeout
        self.requests = 0

    # Reference: https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/ (ApplicationService_List)
    def list_applications(self) -> list[dict[str, Any]]:
        """Every application the token may see, with its status."""
        body = self._get("/api/v1/applications")
        return list(body.get("items") or [])  # Argo CD sends "items": null when there are none

    # Reference: https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/ (ApplicationService_Get)
    def get_application(self, name: str) -> dict[str, Any]:
        """One application by name."""
        return self._get(f"/api/v1/applications/{requests.utils.quote(name, safe='')}")

    # Reference: https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/ (ApplicationService_GetManifests)
    def get_manifests(self, name: str, revisions: list[str], positions: list[int] | None = None) -> dict[str, Any]:
        """The manifests Argo CD renders for an application at a revision (or, for a multi-source
        application, at one revision per 1-based source position)."""
        params: list[tuple[str, str | int]]
        if positions:
            params = [("revisions", r) for r in revisions] + [("sourcePositions", p) for p in positions]
        else:
            params = [("revision", revisions[0])]
        return self._get(f"/api/v1/applications/{requests.utils.quote(name, safe='')}/manifests", params)

    def _get(self, path: str, params: list[tuple[str, str | int]] | None = None) -> dict[str, Any]:
        url = self.base_url + path
        self.requests += 1
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise HarvestError(f"argocd {self.base_url}: cannot connect ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            # Argo CD answers 401 for a missing or expired token and 403 for a project it may not read.
            raise HarvestError(f"argocd {url}: token refused (HTTP {response.status_code})")
        if response.status_code == 404:
            raise HarvestError(f"argocd {url}: not found (HTTP 404)")
        if response.status_code != 200:
            raise HarvestError(f"argocd {url}: HTTP {response.status_code}: {_message(response)}")
        try:
            body = response.json()
        except ValueError:
            raise HarvestError(f"argocd {url}: answer is not JSON") from None
        if not isinstance(body, dict):
            raise HarvestError(f"argocd {url}: expected a JSON object")
        return body


def _message(response: requests.Response) -> str:
    """Argo CD errors are gRPC-gateway objects: {"error", "code", "message"}."""
    try:
        return str(response.json().get("message", ""))[:200]
    except (ValueError, AttributeError):
        return response.text[:200]


class ArgoCDHarvester(Harvester):
    kind = "argocd"

    def targets(self, source: Source) -> list[str]:
        names = source.setting("applications") or []
        return [str(n) for n in names] or [ALL]

    def harvest(self, source: Source, target: str, cursor: dict[str, Any]) -> HarvestResult:
        if not source.url:
            raise HarvestError(f"source {source.name}: url (the Argo CD server) is not set")
        client = ArgoCDClient(source.url, source.credential())
        apps = client.list_applications() if target == ALL else [client.get_application(target)]
        observed_at = datetime.now(UTC)
        result = HarvestResult(requests=0)
        seen = dict(cursor.get("applications", {}))
        history: dict[str, dict[str, Any]] = {}
        for app in apps:
            name = str(app.get("metadata", {}).get("name", ""))
            try:
                placement = place(source, application_facts(app))
            except MappingError as exc:
                raise HarvestError(str(exc)) from None
            last = seen.get(name) or {}
            records = application_records(source.name, app, placement, observed_at, last.get("snapshot", "first"))
            asked = manifest_records(client, source.name, app, placement, observed_at, last.get("manifests") or [])
            result.records.extend([*records, *asked.records])
            result.errors.extend(asked.errors)
            ids = sorted(h["id"] for h in history_of(app) if isinstance(h.get("id"), int))
            if ids:
                history[name] = {"ids": [ids[0], ids[-1]]}
            rolled = rolled_over(last, ids)
            if rolled:
                history[name]["rolled_over"] = rolled
                unrecorded = sorted(set(rolled) - recorded_history_ids(source.name, name, rolled, last))
                if unrecorded:
                    result.errors.append(f"{name}: history items {unrecorded} rolled over unseen")
            state = {**last, "snapshot": compact_json_hash16(application_snapshot(app, placement))}
            state["manifests"] = asked.done
            if ids:
                latest = max(history_of(app), key=lambda h: h.get("id", -1))
                state.update(last_history_id=ids[-1], deployed_at=latest.get("deployedAt"))
            seen[name] = state
        result.requests = client.requests
        result.cursor = {"applications": seen}
        result.observed = {"applications": len(apps), "records": len(result.records), "history": history}
        return result


def application_facts(app: dict[str, Any]) -> dict[str, str]:
    """What environment rules can match on: name, project, destination namespace and cluster."""
    spec = app.get("spec") or {}
    destination = spec.get("destination") or {}
    return {
        "name": str(app.get("metadata", {}).get("name", "")),
        "kind": "Application",
        "project": str(spec.get("project", "")),
        "namespace": str(destination.get("namespace", "")),
        "cluster": str(destination.get("name") or destination.get("server") or ""),
    }


def history_of(app: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for h in (app.get("status") or {}).get("history") or [] if isinstance(h, dict)]


def application_records(
    source: str, app: dict[str, Any], placement: Placement, observed_at: datetime, previous: str = "first"
) -> list[Record]:
    """Each history item, the last operation and a snapshot of one application.

    The snapshot's key names the previous snapshot's content too, so a return to an earlier
    state (healthy, degraded, healthy again) is a new entry while an unchanged one is not.
    """
    name = str(app["metadata"]["name"])
    subject = f"argocd:{name}"
    status = app.get("status") or {}
    common = {"environment": placement.environment, "application": placement.application, "argocd_application": name}
    spec = app.get("spec") or {}
    snapshot = application_snapshot(app, placement)
    records = []
    for item in history_of(app):
        data = without_floats({**common, "project": spec.get("project"), "history": item})
        records.append(
            Record(
                "argocd.deployment",
                source,
                subject,
                f"argocd:{source}:deployment:{name}:{item.get('id')}:{item.get('deployedAt')}",
                data,
                observed_at=observed_at,
                occurred_at=parse_time(item.get("deployedAt"), lenient=True),
            )
        )
    operation = status.get("operationState")
    if isinstance(operation, dict) and operation.get("startedAt"):
        data = without_floats({**common, "project": spec.get("project"), "operationState": operation})
        records.append(
            Record(
                "argocd.sync_operation",
                source,
                subject,
                f"argocd:{source}:operation:{name}:{operation['startedAt']}:{operation.get('phase')}:{compact_json_hash16(data)}",
                data,
                observed_at=observed_at,
                occurred_at=parse_time(operation.get("finishedAt") or operation.get("startedAt"), lenient=True),
            )
        )
    content = compact_json_hash16(snapshot)
    if content != previous:  # last, so that projecting it finds the deployment its images belong to
        key = f"argocd:{source}:application:{name}:{previous}:{content}"
        records.append(Record("argocd.application", source, subject, key, snapshot, observed_at=observed_at))
    return records


def application_snapshot(app: dict[str, Any], placement: Placement) -> dict[str, Any]:
    """Sync, health, destination and images: what the application looks like now (no timestamps)."""
    spec = app.get("spec") or {}
    status = app.get("status") or {}
    snapshot = {
        "environment": placement.environment,
        "application": placement.application,
        "argocd_application": str(app["metadata"]["name"]),
        "metadata": {k: app["metadata"].get(k) for k in ("name", "namespace", "uid")},
        "project": spec.get("project"),
        "destination": spec.get("destination"),
        "source": spec.get("source"),
        "sources": spec.get("sources"),
        "sync": status.get("sync"),
        "health": status.get("health"),
        "images": (status.get("summary") or {}).get("images") or [],
        "history_ids": [h.get("id") for h in history_of(app)],
        "operation_phase": (status.get("operationState") or {}).get("phase"),
    }
    return without_floats(snapshot)


def rolled_over(last: dict[str, Any], ids: list[int]) -> list[int]:
    """History ids this harvester never listed: after the last one it saw, before the first listed now."""
    if "last_history_id" not in last or not ids or ids[0] <= last["last_history_id"] + 1:
        return []
    return list(range(last["last_history_id"] + 1, ids[0]))


def recorded_history_ids(source: str, name: str, ids: Iterable[int], last: dict[str, Any]) -> set[int]:
    """Which of these history ids some ledger entry (a webhook delivery, an earlier harvest) holds.

    Only entries observed after the last item the cursor knows was deployed can hold later items.
    """
    wanted = set(ids)
    entries = Entry.objects.filter(kind__in=ARGOCD_HISTORY_KINDS, source=source, subject=f"argocd:{name}")
    since = parse_time(last.get("deployed_at"), lenient=True)
    if since is not None:
        entries = entries.filter(observed_at__gte=since - CLOCK_SKEW)
    found: set[int] = set()
    for entry in entries.only("kind", "payload").iterator():
        found |= wanted & argocd_history_ids(entry.kind, entry.data)
    return found


@dataclass
class AskedManifests:
    records: list[Record] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    done: list[int] = field(default_factory=list)  # history ids whose manifests are recorded (still listed)


def manifest_records(
    client: ArgoCDClient, source: str, app: dict[str, Any], placement: Placement, observed_at: datetime, done: list[Any]
) -> AskedManifests:
    """`argocd.manifests` for each history item not asked before: the workloads and images the
    manifests at its revision name. A revision Argo CD cannot render now (a rewritten branch, a
    repository gone) is an error of this run, asked again next time; never a guess."""
    name = str(app["metadata"]["name"])
    listed = {h["id"]: h for h in history_of(app) if isinstance(h.get("id"), int)}
    out = AskedManifests(done=sorted(i for i in done if i in listed))
    spec = app.get("spec") or {}
    common = {"environment": placement.environment, "application": placement.application, "argocd_application": name}
    for history_id, item in sorted(listed.items()):
        if history_id in out.done:
            continue
        revisions = [str(r) for r in item.get("revisions") or []] or [str(item.get("revision") or "")]
        positions = list(range(1, len(revisions) + 1)) if item.get("revisions") else None
        if not any(revisions):
            continue
        try:
            answer = client.get_manifests(name, revisions, positions)
        except HarvestError as exc:
            out.errors.append(f"{name}: manifests of history item {history_id}: {exc}")
            continue
        raw = [m for m in answer.get("manifests") or [] if isinstance(m, str)]
        data = without_floats(
            {
                **common,
                "project": spec.get("project"),
                "history": item,
                "revisions": revisions,
                "source_positions": positions or [],
                "rendered": {k: answer.get(k) for k in ("revision", "revisions", "sourceType", "namespace", "server")},
                "manifests_sha256": hashlib.sha256("\n".join(raw).encode()).hexdigest(),
                "workloads": workloads_of(raw),
            }
        )
        key = f"argocd:{source}:manifests:{name}:{history_id}:{item.get('deployedAt')}:{compact_json_hash16(data)}"
        when = parse_time(item.get("deployedAt"), lenient=True)
        out.records.append(
            Record("argocd.manifests", source, f"argocd:{name}", key, data, observed_at=observed_at, occurred_at=when)
        )
        out.done.append(history_id)
    out.done.sort()
    return out


POD_SPEC_PATHS = (("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec"))


def workloads_of(manifests: list[str]) -> list[dict[str, Any]]:
    """Each object with a pod spec, with its containers and init containers (name and image as
    written). Only these are kept: the rest of a manifest (Secrets among them) stays out of the ledger."""
    out = []
    for text in manifests:
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        pod = obj.get("spec") if obj.get("kind") == "Pod" else _pod_spec(obj)
        if not isinstance(pod, dict):
            continue
        containers = [
            {"name": str(c.get("name") or ""), "image": str(c.get("image") or ""), "type": type_}
            for type_, key in (("init", "initContainers"), ("container", "containers"))
            for c in pod.get(key) or []
            if isinstance(c, dict) and c.get("image")
        ]
        if containers:
            meta = obj.get("metadata") or {}
            out.append(
                {
                    "kind": str(obj.get("kind") or ""),
                    "namespace": str(meta.get("namespace") or ""),
                    "name": str(meta.get("name") or ""),
                    "containers": containers,
                }
            )
    return sorted(out, key=lambda w: (w["kind"], w["namespace"], w["name"]))


def _pod_spec(obj: dict[str, Any]) -> Any:
    for path in POD_SPEC_PATHS:
        node: Any = obj
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            return node
    return None
