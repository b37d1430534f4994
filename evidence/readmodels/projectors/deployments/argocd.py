"""Argo CD: history items, sync operations, application snapshots and notification deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from evidence.core.times import parse_time
from evidence.readmodels.models import Deployment
from evidence.readmodels.projectors import projects
from evidence.readmodels.projectors.deployments.images import DIGEST, set_containers
from evidence.readmodels.projectors.deployments.lineage import ARGO_FAILED, ARGO_RUNNING
from evidence.readmodels.projectors.deployments.rows import add_digests, new_row, save_row
from ledger.models import Entry


@projects("argocd.deployment")
def project_argocd_deployment(entry: Entry) -> None:
    data = entry.data
    if isinstance(data.get("history"), dict):
        _merge_argocd_history(entry, data, data["history"])
    elif data.get("revision") and entry.occurred_at is not None:
        _project_summary(entry, data)


@projects("argocd.sync_operation")
def project_argocd_operation(entry: Entry) -> None:
    data = entry.data
    if isinstance(data.get("operationState"), dict):
        _merge_argocd_operation(entry, data, data["operationState"])


def _project_summary(entry: Entry, data: dict[str, Any]) -> None:
    """A deployment stated as a summary (environment, application, revision, image digests) by a
    producer other than the harvester, e.g. imported records; it finished at occurred_at."""
    identity = f"argocd:{entry.source}:{entry.idempotency_key}"
    row = new_row(entry, data, "argocd", identity, entry.occurred_at)
    row.revision, row.finished_at, row.phase = str(data["revision"]), entry.occurred_at, "Succeeded"
    digests = [(d, d) for d in data.get("images") or [] if isinstance(d, str) and DIGEST.fullmatch(d)]
    add_digests(row, digests, "controller", entry.seq)
    save_row(row, entry)


@projects("argocd.manifests")
def project_argocd_manifests(entry: Entry) -> None:
    """The images the manifests at a history item's revision name, on that item's deployment (the
    item comes with them, so the row is the same whichever entry is projected first)."""
    data = entry.data
    item = data.get("history")
    if not isinstance(item, dict):
        return
    row = _merge_argocd_history(entry, data, item)
    if row is None:
        return
    set_containers(row, [w for w in data.get("workloads") or [] if isinstance(w, dict)], entry.seq)
    save_row(row, entry)


@projects("argocd.application")
def project_argocd_application(entry: Entry) -> None:
    data = entry.data
    _enrich_argocd_latest(entry, data, data.get("history_ids") or [], data)


@projects("argocd.webhook")
def project_argocd_webhook(entry: Entry) -> None:
    """A notification carries the Application (status subset); it proves the same facts a harvest does."""
    data = entry.data
    app = (data.get("delivery") or {}).get("app") or {}
    status = app.get("status") or {}
    for item in status.get("history") or []:
        if isinstance(item, dict):
            _merge_argocd_history(entry, data, item)
    operation = status.get("operationState")
    if isinstance(operation, dict) and operation.get("startedAt"):
        _merge_argocd_operation(entry, data, operation)
    view = {
        "sync": status.get("sync"),
        "health": status.get("health"),
        "images": (status.get("summary") or {}).get("images") or [],
        "operation_phase": (operation or {}).get("phase") if isinstance(operation, dict) else None,
    }
    history_ids = [h.get("id") for h in status.get("history") or [] if isinstance(h, dict)]
    _enrich_argocd_latest(entry, data, history_ids, view)


def _argocd_identity(entry: Entry, data: dict[str, Any], started: datetime) -> str:
    return f"argocd:{entry.source}:{_argo_name(entry, data)}:{started.isoformat()}"


def _argo_name(entry: Entry, data: dict[str, Any]) -> str:
    return str(data.get("argocd_application") or entry.subject.removeprefix("argocd:"))


def _initiator(initiated_by: Any) -> tuple[str, bool | None]:
    if not isinstance(initiated_by, dict):
        return "", None
    automated = initiated_by.get("automated")
    user = str(initiated_by.get("username") or "")
    if automated:
        return user or "automation", True
    return user, (False if user else None)


def _merge_argocd_history(entry: Entry, data: dict[str, Any], item: dict[str, Any]) -> Deployment | None:
    started = parse_time(item.get("deployStartedAt"), lenient=True) or parse_time(item.get("deployedAt"), lenient=True)
    if started is None:
        return None
    revision = item.get("revision") or ",".join(item.get("revisions") or [])
    finished = parse_time(item.get("deployedAt"), lenient=True)
    row = _argocd_row(entry, data, started, finished, str(revision))
    row.external_id = str(item.get("id", ""))
    row.revision = row.revision or str(revision)
    row.finished_at = parse_time(item.get("deployedAt"), lenient=True) or row.finished_at
    if not row.phase or row.phase in ARGO_RUNNING:
        row.phase = "Succeeded"  # only completed syncs enter Argo CD's history
    user, automated = _initiator(item.get("initiatedBy"))
    if user and not row.initiated_by:
        row.initiated_by, row.automated = user, automated
    save_row(row, entry)
    return row


def _argocd_row(
    entry: Entry, data: dict[str, Any], started: datetime, finished: datetime | None, revision: str
) -> Deployment:
    """The row of the sync that started at `started`; history items of Argo CD versions that lack
    deployStartedAt match their operation by revision and finish time instead."""
    identity = _argocd_identity(entry, data, started)
    row = Deployment.objects.filter(identity=identity).first()
    if row is None and finished is not None and revision:
        row = Deployment.objects.filter(
            source=entry.source, subject=entry.subject, revision=revision, finished_at=finished
        ).first()
    return row or new_row(entry, data, "argocd", identity, started)


def _merge_argocd_operation(entry: Entry, data: dict[str, Any], operation: dict[str, Any]) -> None:
    started = parse_time(operation.get("startedAt"), lenient=True)
    if started is None:
        return
    phase = str(operation.get("phase") or "")
    result = operation.get("syncResult") or {}
    spec = operation.get("operation") or {}
    revision = (
        result.get("revision")
        or ",".join(result.get("revisions") or [])
        or (spec.get("sync") or {}).get("revision")
        or ""
    )
    finished = parse_time(operation.get("finishedAt"), lenient=True) if phase not in ARGO_RUNNING else None
    row = _argocd_row(entry, data, started, finished, str(revision))
    if phase in ARGO_FAILED or row.phase in ("", *ARGO_RUNNING):
        row.phase = phase  # a later phase of the same operation; history's "Succeeded" is final
    row.revision = row.revision or str(revision)
    if phase not in ARGO_RUNNING and row.finished_at is None:
        row.finished_at = parse_time(operation.get("finishedAt"), lenient=True)
    row.message = row.message or str(operation.get("message") or "")[:2000]
    user, automated = _initiator(spec.get("initiatedBy"))
    if user and not row.initiated_by:
        row.initiated_by, row.automated = user, automated
    save_row(row, entry)


def _enrich_argocd_latest(entry: Entry, data: dict[str, Any], history_ids: list[Any], view: dict[str, Any]) -> None:
    """Images and health of an application belong to its latest completed deployment."""
    ids = [i for i in history_ids if isinstance(i, int)]
    if not ids or view.get("operation_phase") in ARGO_RUNNING:
        return
    row = Deployment.objects.filter(
        controller="argocd",
        source=entry.source,
        subject=f"argocd:{_argo_name(entry, data)}",
        external_id=str(max(ids)),
    ).first()
    if row is None:
        return
    changed = False
    health = str((view.get("health") or {}).get("status") or "")
    if health and row.health in ("", "Progressing", "Missing", "Unknown"):
        row.health, changed = health, True
    images = [str(i) for i in view.get("images") or []]
    if images and not row.image_refs:
        row.image_refs, changed = images, True
        digests = [(m.group(0), ref) for ref in images if (m := DIGEST.search(ref.partition("@")[2]))]
        add_digests(row, digests, "controller", entry.seq)
    if changed:
        save_row(row, entry)
