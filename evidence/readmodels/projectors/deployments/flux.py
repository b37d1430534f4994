"""Flux: Kustomization and HelmRelease status (history or last applied revision) and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from evidence.core.times import parse_time
from evidence.readmodels.models import Deployment
from evidence.readmodels.projectors import projects
from evidence.readmodels.projectors.deployments.rows import new_row, save_row
from evidence.sources.controllers.history import HELM_RELEASE
from ledger.models import Entry


@projects("flux.kustomization")
def project_flux_kustomization(entry: Entry) -> None:
    data = entry.data
    history = [h for h in (data.get("status") or {}).get("history") or [] if isinstance(h, dict)]
    for item in sorted(history, key=lambda h: h.get("firstReconciled") or ""):
        when = parse_time(item.get("firstReconciled"), lenient=True)
        revision = str((item.get("metadata") or {}).get("revision") or "")
        if when is None or not revision:
            continue
        status = str(item.get("lastReconciledStatus") or "")
        row = _flux_episode(entry, data, revision, when)
        row.external_id = str(item.get("digest") or "")
        row.phase = status
        row.health = "Degraded" if status == "HealthCheckFailed" else (row.health or "")
        save_row(row, entry)
    if not history:
        _project_flux_without_history(entry, data)


def _project_flux_without_history(entry: Entry, data: dict[str, Any]) -> None:
    """kustomize-controller before status.history: the last applied revision, seen applied by now."""
    status = data.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    applied, attempted = status.get("lastAppliedRevision"), status.get("lastAttemptedRevision")
    observed = parse_time(entry.envelope["observed_at"], lenient=True)
    if applied and observed is not None:
        row = _flux_episode(entry, data, str(applied), observed)
        row.phase = row.phase or str(ready.get("reason") or "")
        save_row(row, entry)
    if attempted and attempted != applied and ready.get("status") == "False" and observed is not None:
        identity = f"flux:{entry.source}:{entry.subject}:failed:{attempted}"
        row = new_row(
            entry, data, "flux", identity, parse_time(ready.get("lastTransitionTime"), lenient=True) or observed
        )
        row.revision, row.phase = str(attempted), str(ready.get("reason") or "ReconciliationFailed")
        row.finished_at = row.finished_at or row.started_at
        row.message = row.message or str(ready.get("message") or "")[:2000]
        save_row(row, entry)


@projects("flux.helmrelease")
def project_flux_helmrelease(entry: Entry) -> None:
    data = entry.data
    history = [h for h in (data.get("status") or {}).get("history") or [] if isinstance(h, dict)]
    for item in sorted(history, key=lambda h: h.get("version") or 0):
        when = parse_time(item.get("firstDeployed"), lenient=True)
        if when is None or item.get("version") is None:
            continue
        identity = f"flux:{entry.source}:{entry.subject}:v{item['version']}"
        row = new_row(entry, data, "flux", identity, when)
        row.external_id = f"v{item['version']}"
        row.revision = str(item.get("chartVersion") or "")
        row.phase = str(item.get("status") or "")
        row.finished_at = row.finished_at or when
        row.initiated_by, row.automated = row.initiated_by or str(data.get("controller") or "flux"), True
        if item.get("ociDigest"):
            row.message = row.message or f"chart {item.get('chartName')}@{item['ociDigest']}"
        save_row(row, entry)


FLUX_APPLIED = {"ReconciliationSucceeded", "Progressing", "InstallSucceeded", "UpgradeSucceeded", "RollbackSucceeded"}


@projects("flux.event")
def project_flux_event(entry: Entry) -> None:
    """Events prove a revision was applied (or failed) even when status.history has rolled over."""
    data = entry.data
    event = data.get("event") or {}
    reason = str(event.get("reason") or "")
    when = parse_time(event.get("timestamp"), lenient=True)
    metadata = event.get("metadata") or {}
    revision = next((str(v) for k, v in metadata.items() if str(k).endswith("/revision")), "")
    if when is None or not revision:
        return
    kind = (event.get("involvedObject") or {}).get("kind")
    failed = event.get("severity") == "error" and reason != "HealthCheckFailed"
    release = HELM_RELEASE.search(str(event.get("message") or "")) if kind == "HelmRelease" else None
    if release and not failed and reason in FLUX_APPLIED:
        row = new_row(entry, data, "flux", f"flux:{entry.source}:{entry.subject}:v{release.group(1)}", when)
        row.external_id = row.external_id or f"v{release.group(1)}"
        row.revision = row.revision or revision
        row.phase = row.phase or ("deployed" if reason != "RollbackSucceeded" else "rolled-back")
        row.finished_at = row.finished_at or when
        row.initiated_by, row.automated = row.initiated_by or str(data.get("controller") or "flux"), True
    elif failed:
        latest = Deployment.objects.filter(subject=entry.subject, source=entry.source, started_at__lte=when)
        row = latest.order_by("-started_at", "-id").first()
        if row is None or row.outcome != "failed" or row.revision != revision:
            identity = f"flux:{entry.source}:{entry.subject}:failed:{revision}:{when.isoformat()}"
            row = new_row(entry, data, "flux", identity, when)
            row.revision, row.finished_at, row.phase = revision, when, reason
        row.message = row.message or str(event.get("message") or "")[:2000]
    elif reason in FLUX_APPLIED or reason == "HealthCheckFailed":
        row = _flux_episode(entry, data, revision, when)
        row.phase = row.phase or reason
        if reason == "HealthCheckFailed":
            row.health = "Degraded"
    else:
        return
    save_row(row, entry)


def _flux_episode(entry: Entry, data: dict[str, Any], revision: str, start: datetime) -> Deployment:
    """The row for `revision` applied on this object around `start`: the row just before it or
    just after it when that one has the same revision (no other revision in between), or a new one."""
    rows = Deployment.objects.filter(subject=entry.subject, source=entry.source, controller="flux").exclude(
        outcome="failed"
    )
    before = rows.filter(started_at__lte=start).order_by("-started_at", "-id").first()
    if before is not None and before.revision == revision:
        return before
    after = rows.filter(started_at__gt=start).order_by("started_at", "id").first()
    if after is not None and after.revision == revision:
        after.started_at = start  # seen earlier than the first sighting: the episode starts here
        after.finished_at = start
        return after
    identity = f"flux:{entry.source}:{entry.subject}:{revision}:{start.isoformat()}"
    row = new_row(entry, data, "flux", identity, start)
    row.revision = revision
    row.finished_at = row.finished_at or start
    row.initiated_by = row.initiated_by or str(data.get("controller") or "flux")
    row.automated = True
    return row
