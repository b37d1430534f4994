"""Deployments projected from controller entries (Argo CD, Flux) and running pods.

One deployment may be seen several times: by a harvest of the history, by the sync operation,
by a webhook delivery. Each sighting merges into the row with the same stable identity and adds
its entry seq, so a deployment seen both ways is one row citing both entries.

Argo CD identity: source + application + the time the sync started (history deployStartedAt ==
operationState.startedAt), which also covers failed syncs that never reach history.
Flux identity: Helm release version for HelmReleases; for Kustomizations, the episode of one
revision (history items and events for the same revision with no other revision in between).

After a change, the row and its successors are re-derived: outcome `rolled_back` (an older
revision or digest set deployed again) and `running_since` (start of the unbroken run of the
same revision and digests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q

from evidence.harvesters.argocd import parse_time
from evidence.models import DeployedApplication, Deployment, DeploymentGap, DeploymentImage, WorkloadSnapshot
from ledger.models import Entry

from . import projection_model, projects

for _model in (Deployment, DeploymentImage, DeployedApplication, DeploymentGap, WorkloadSnapshot):
    projection_model(_model)

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
ARGO_FAILED = {"Failed", "Error"}
ARGO_RUNNING = {"Running", "Terminating"}
HELM_RELEASE = re.compile(r"\.v(\d+)\b")


# --- Argo CD ---------------------------------------------------------------------------------


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
    row = _row(entry, data, "argocd", identity, entry.occurred_at)
    row.revision, row.finished_at, row.phase = str(data["revision"]), entry.occurred_at, "Succeeded"
    digests = [(d, d) for d in data.get("images") or [] if isinstance(d, str) and DIGEST.fullmatch(d)]
    _add_digests(row, digests, "controller", entry.seq)
    _save(row, entry)


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


def _merge_argocd_history(entry: Entry, data: dict[str, Any], item: dict[str, Any]) -> None:
    started = parse_time(item.get("deployStartedAt")) or parse_time(item.get("deployedAt"))
    if started is None:
        return
    revision = item.get("revision") or ",".join(item.get("revisions") or [])
    finished = parse_time(item.get("deployedAt"))
    row = _argocd_row(entry, data, started, finished, str(revision))
    row.external_id = str(item.get("id", ""))
    row.revision = row.revision or str(revision)
    row.finished_at = parse_time(item.get("deployedAt")) or row.finished_at
    if not row.phase or row.phase in ARGO_RUNNING:
        row.phase = "Succeeded"  # only completed syncs enter Argo CD's history
    user, automated = _initiator(item.get("initiatedBy"))
    if user and not row.initiated_by:
        row.initiated_by, row.automated = user, automated
    _save(row, entry)


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
    return row or _row(entry, data, "argocd", identity, started)


def _merge_argocd_operation(entry: Entry, data: dict[str, Any], operation: dict[str, Any]) -> None:
    started = parse_time(operation.get("startedAt"))
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
    finished = parse_time(operation.get("finishedAt")) if phase not in ARGO_RUNNING else None
    row = _argocd_row(entry, data, started, finished, str(revision))
    if phase in ARGO_FAILED or row.phase in ("", *ARGO_RUNNING):
        row.phase = phase  # a later phase of the same operation; history's "Succeeded" is final
    row.revision = row.revision or str(revision)
    if phase not in ARGO_RUNNING and row.finished_at is None:
        row.finished_at = parse_time(operation.get("finishedAt"))
    row.message = row.message or str(operation.get("message") or "")[:2000]
    user, automated = _initiator(spec.get("initiatedBy"))
    if user and not row.initiated_by:
        row.initiated_by, row.automated = user, automated
    _save(row, entry)


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
        _add_digests(row, digests, "controller", entry.seq)
    if changed:
        _save(row, entry)


# --- Flux ------------------------------------------------------------------------------------


@projects("flux.kustomization")
def project_flux_kustomization(entry: Entry) -> None:
    data = entry.data
    history = [h for h in (data.get("status") or {}).get("history") or [] if isinstance(h, dict)]
    for item in sorted(history, key=lambda h: h.get("firstReconciled") or ""):
        when = parse_time(item.get("firstReconciled"))
        revision = str((item.get("metadata") or {}).get("revision") or "")
        if when is None or not revision:
            continue
        status = str(item.get("lastReconciledStatus") or "")
        row = _flux_episode(entry, data, revision, when)
        row.external_id = str(item.get("digest") or "")
        row.phase = status
        row.health = "Degraded" if status == "HealthCheckFailed" else (row.health or "")
        _save(row, entry)
    if not history:
        _project_flux_without_history(entry, data)


def _project_flux_without_history(entry: Entry, data: dict[str, Any]) -> None:
    """kustomize-controller before status.history: the last applied revision, seen applied by now."""
    status = data.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    applied, attempted = status.get("lastAppliedRevision"), status.get("lastAttemptedRevision")
    observed = parse_time(entry.envelope["observed_at"])
    if applied and observed is not None:
        row = _flux_episode(entry, data, str(applied), observed)
        row.phase = row.phase or str(ready.get("reason") or "")
        _save(row, entry)
    if attempted and attempted != applied and ready.get("status") == "False" and observed is not None:
        identity = f"flux:{entry.source}:{entry.subject}:failed:{attempted}"
        row = _row(entry, data, "flux", identity, parse_time(ready.get("lastTransitionTime")) or observed)
        row.revision, row.phase = str(attempted), str(ready.get("reason") or "ReconciliationFailed")
        row.finished_at = row.finished_at or row.started_at
        row.message = row.message or str(ready.get("message") or "")[:2000]
        _save(row, entry)


@projects("flux.helmrelease")
def project_flux_helmrelease(entry: Entry) -> None:
    data = entry.data
    history = [h for h in (data.get("status") or {}).get("history") or [] if isinstance(h, dict)]
    for item in sorted(history, key=lambda h: h.get("version") or 0):
        when = parse_time(item.get("firstDeployed"))
        if when is None or item.get("version") is None:
            continue
        identity = f"flux:{entry.source}:{entry.subject}:v{item['version']}"
        row = _row(entry, data, "flux", identity, when)
        row.external_id = f"v{item['version']}"
        row.revision = str(item.get("chartVersion") or "")
        row.phase = str(item.get("status") or "")
        row.finished_at = row.finished_at or when
        row.initiated_by, row.automated = row.initiated_by or str(data.get("controller") or "flux"), True
        if item.get("ociDigest"):
            row.message = row.message or f"chart {item.get('chartName')}@{item['ociDigest']}"
        _save(row, entry)


FLUX_APPLIED = {"ReconciliationSucceeded", "Progressing", "InstallSucceeded", "UpgradeSucceeded", "RollbackSucceeded"}


@projects("flux.event")
def project_flux_event(entry: Entry) -> None:
    """Events prove a revision was applied (or failed) even when status.history has rolled over."""
    data = entry.data
    event = data.get("event") or {}
    reason = str(event.get("reason") or "")
    when = parse_time(event.get("timestamp"))
    metadata = event.get("metadata") or {}
    revision = next((str(v) for k, v in metadata.items() if str(k).endswith("/revision")), "")
    if when is None or not revision:
        return
    kind = (event.get("involvedObject") or {}).get("kind")
    failed = event.get("severity") == "error" and reason != "HealthCheckFailed"
    release = HELM_RELEASE.search(str(event.get("message") or "")) if kind == "HelmRelease" else None
    if release and not failed and reason in FLUX_APPLIED:
        row = _row(entry, data, "flux", f"flux:{entry.source}:{entry.subject}:v{release.group(1)}", when)
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
            row = _row(entry, data, "flux", identity, when)
            row.revision, row.finished_at, row.phase = revision, when, reason
        row.message = row.message or str(event.get("message") or "")[:2000]
    elif reason in FLUX_APPLIED or reason == "HealthCheckFailed":
        row = _flux_episode(entry, data, revision, when)
        row.phase = row.phase or reason
        if reason == "HealthCheckFailed":
            row.health = "Degraded"
    else:
        return
    _save(row, entry)


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
    row = _row(entry, data, "flux", identity, start)
    row.revision = revision
    row.finished_at = row.finished_at or start
    row.initiated_by = row.initiated_by or str(data.get("controller") or "flux")
    row.automated = True
    return row


# --- Running pods ----------------------------------------------------------------------------


@projects("kubernetes.pods")
def project_pods(entry: Entry) -> None:
    """Record what runs, and resolve the live deployment's images to the digests actually running."""
    data = entry.data
    observed = parse_time(entry.envelope["observed_at"])
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pod in data.get("pods") or []:
        for container in pod.get("containers") or []:
            item = {"pod": pod.get("name"), **container}
            groups.setdefault((pod["environment"], pod["application"]), []).append(item)
    for (environment, application), containers in sorted(groups.items()):
        digests = sorted({d for c in containers if (d := image_digest(c.get("imageID")))})
        WorkloadSnapshot.objects.get_or_create(
            entry_seq=entry.seq,
            environment=environment,
            application=application,
            namespace=str(data.get("namespace") or ""),
            defaults={"source": entry.source, "observed_at": observed, "images": containers, "digests": digests},
        )
        live = (
            Deployment.objects.filter(environment=environment, application=application, finished_at__lte=observed)
            .filter(outcome__in=("succeeded", "degraded", "rolled_back"))
            .order_by("-finished_at", "-id")
            .first()
        )
        if live is None or live.image_digests:
            continue  # nothing to resolve, or the controller named digests (drift shows in running_at)
        refs = set(live.image_refs)
        found = [(d, str(c.get("image"))) for c in containers if (d := image_digest(c.get("imageID")))]
        if refs:
            found = [(d, image) for d, image in found if image in refs]
        if found:
            _add_digests(live, found, "pods", entry.seq)
            _save(live, entry)


def image_digest(image_id: Any) -> str | None:
    """The registry digest in a containerStatuses[].imageID (`repo@sha256:...`); None for local ids."""
    if not isinstance(image_id, str) or "@" not in image_id:
        return None
    match = DIGEST.fullmatch(image_id.rpartition("@")[2])
    return match.group(0) if match else None


# --- Gaps ------------------------------------------------------------------------------------


@projects("deploy.gap")
def project_gap(entry: Entry) -> None:
    data = entry.data
    DeploymentGap.objects.get_or_create(
        entry_seq=entry.seq,
        defaults={
            "controller": data.get("controller", ""),
            "source": entry.source,
            "subject": entry.subject,
            "environment": data.get("environment", ""),
            "application": data.get("application", ""),
            "missing": data.get("missing", []),
            "after": parse_time(data.get("after")),
            "before": parse_time(data.get("before")),
        },
    )


def argocd_history_ids_seen(source: str, application: str, ids: Iterable[int]) -> set[int]:
    """Which of these Argo CD history ids some entry (a webhook delivery) already proved."""
    found = Deployment.objects.filter(
        controller="argocd", source=source, subject=f"argocd:{application}", external_id__in=[str(i) for i in ids]
    ).values_list("external_id", flat=True)
    return {int(i) for i in found}


# --- Shared ----------------------------------------------------------------------------------


def _row(entry: Entry, data: dict[str, Any], controller: str, identity: str, started: datetime) -> Deployment:
    row = Deployment.objects.filter(identity=identity).first()
    if row is not None:
        return row
    row = Deployment(
        identity=identity,
        controller=controller,
        source=entry.source,
        subject=entry.subject,
        environment=str(data.get("environment") or "unknown"),
        application=str(data.get("application") or "unknown"),
        started_at=started,
        outcome="in_progress",
        entry_seqs=[],
        first_seq=entry.seq,
    )
    return row


def _add_digests(row: Deployment, found: list[tuple[str, str]], origin: str, seq: int) -> None:
    if row.pk is None:
        row.save()
    for digest, image in found:
        DeploymentImage.objects.get_or_create(
            deployment=row, digest=digest, defaults={"image": image, "origin": origin, "entry_seq": seq}
        )
    row.image_digests = sorted({*row.image_digests, *(d for d, _ in found)})


def _save(row: Deployment, entry: Entry) -> None:
    if entry.seq not in row.entry_seqs:
        row.entry_seqs = sorted([*row.entry_seqs, entry.seq])
    row.outcome = _base_outcome(row)
    row.save()
    if row.finished_at is not None and row.outcome != "failed":
        app, created = DeployedApplication.objects.get_or_create(
            environment=row.environment, application=row.application, defaults={"first_finished_at": row.finished_at}
        )
        if not created and row.finished_at < app.first_finished_at:
            app.first_finished_at = row.finished_at
            app.save(update_fields=["first_finished_at"])
    _relink_from(row)


def _base_outcome(row: Deployment) -> str:
    """The outcome from the controller's own words, before comparing with earlier deployments."""
    phase = row.phase
    if phase in ARGO_FAILED or phase == "failed" or (phase.endswith("Failed") and phase != "HealthCheckFailed"):
        return "failed"
    if row.finished_at is None or phase in ARGO_RUNNING:
        return "in_progress"
    if row.health == "Degraded" or phase == "HealthCheckFailed":
        return "degraded"
    return "succeeded"


def _live(row: Deployment) -> Q:
    return Q(environment=row.environment, application=row.application, finished_at__isnull=False) & ~Q(
        outcome__in=("failed", "in_progress")
    )


def _same(a: Deployment, b: Deployment) -> bool:
    """Same revision, and the same digest set where both are known."""
    if a.revision != b.revision:
        return False
    return not a.image_digests or not b.image_digests or set(a.image_digests) == set(b.image_digests)


def _relink_from(row: Deployment) -> None:
    """Re-derive rolled_back and running_since for row and the rows after it, until nothing changes."""
    current: Deployment | None = row
    first = True
    while current is not None:
        changed = _derive(current)
        if not changed and not first:
            return
        first = False
        if current.finished_at is None:
            return
        current = (
            Deployment.objects.filter(_live(current))
            .filter(Q(finished_at__gt=current.finished_at) | Q(finished_at=current.finished_at, id__gt=current.id))
            .order_by("finished_at", "id")
            .first()
        )


def _derive(row: Deployment) -> bool:
    base = _base_outcome(row)
    if base in ("failed", "in_progress"):
        outcome, since = base, None
    else:
        earlier = Deployment.objects.filter(_live(row)).filter(
            Q(finished_at__lt=row.finished_at) | Q(finished_at=row.finished_at, id__lt=row.id)
        )
        prev = earlier.order_by("-finished_at", "-id").first()
        outcome, since = base, row.finished_at
        if prev is not None and _same(prev, row):
            since = prev.running_since or prev.finished_at
        elif prev is not None:
            older = earlier.filter(revision=row.revision).exclude(id=prev.id).filter(finished_at__lte=prev.finished_at)
            if any(_same(o, row) for o in older.only("revision", "image_digests")[:50]):
                outcome = "rolled_back"
    if (outcome, since) == (row.outcome, row.running_since):
        return False
    row.outcome, row.running_since = outcome, since
    row.save(update_fields=["outcome", "running_since"])
    return True
