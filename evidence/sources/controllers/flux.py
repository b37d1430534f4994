"""Flux: Kustomization and HelmRelease status through the Kubernetes API.

One `flux.kustomization` / `flux.helmrelease` record per object and change of status (last
applied revision, conditions, status.history with its last five reconciliations or releases).
History that rolled over between harvests and that no notification-controller event covered is
recorded as `deploy.gap`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubernetes import client

from evidence.core.digests import sorted_json_hash16
from evidence.core.jsonvalues import without_floats
from evidence.core.times import parse_time
from evidence.sources.controllers.kubernetes import ALL, api_client, call
from evidence.sources.environment_rules import MappingError, Placement, place
from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult
from ledger.envelope import Record

if TYPE_CHECKING:
    from evidence.sources.models import Source

# kind: (group, default version, plural, controller)
KINDS = {
    "Kustomization": ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "kustomize-controller"),
    "HelmRelease": ("helm.toolkit.fluxcd.io", "v2", "helmreleases", "helm-controller"),
}
# Counters that change on every reconcile without anything being deployed.
VOLATILE = ("lastReconciled", "lastReconciledDuration", "totalReconciliations", "lastDeployed")


class FluxHarvester(Harvester):
    kind = "flux"

    def targets(self, source: Source) -> list[str]:
        return [str(n) for n in source.setting("namespaces") or []] or [ALL]

    def harvest(self, source: Source, target: str, cursor: dict[str, Any]) -> HarvestResult:
        api = client.CustomObjectsApi(api_client(source))
        result = HarvestResult()
        seen: dict[str, Any] = dict(cursor.get("objects", {}))
        observed_at = datetime.now(UTC)
        counts = {}
        for kind, (group, default_version, plural, controller) in KINDS.items():
            version = source.setting(f"{kind.lower()}_version") or default_version
            what = f"list {plural}.{group}/{version}" + ("" if target == ALL else f" in {target}")
            # Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/#collections
            try:
                if target == ALL:
                    listing = call(source, what, api.list_cluster_custom_object, group, version, plural)
                else:
                    listing = call(source, what, api.list_namespaced_custom_object, group, version, target, plural)
            except HarvestError as exc:
                if "HTTP 404" in str(exc):  # that controller's CRD is not installed: note it, go on
                    result.observed[f"{plural}_missing"] = True
                    continue
                raise
            finally:
                result.requests += 1
            items = listing.get("items") or []
            counts[plural] = len(items)
            for obj in items:
                try:
                    records, state = object_records(source, obj, kind, controller, seen, observed_at)
                except MappingError as exc:
                    raise HarvestError(str(exc)) from None
                result.records.extend(records)
                result.errors.extend(
                    f"{r.subject}: history rolled over unseen" for r in records if r.kind == "deploy.gap"
                )
                seen[state[0]] = state[1]
        result.cursor = {"objects": seen}
        result.observed.update(counts)
        return result


def object_records(
    source: Source, obj: dict[str, Any], kind: str, controller: str, seen: dict[str, Any], observed_at: datetime
) -> tuple[list[Record], tuple[str, dict[str, Any]]]:
    meta = obj.get("metadata") or {}
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    subject = f"flux:{namespace}/{kind}/{name}"
    facts = {"name": name, "kind": kind, "namespace": namespace, "cluster": str(source.setting("cluster") or "")}
    placement = place(source, facts)
    status = obj.get("status") or {}
    data = without_floats(
        {
            "environment": placement.environment,
            "application": placement.application,
            "cluster": facts["cluster"],
            "controller": controller,
            "object": {
                "apiVersion": obj.get("apiVersion"),
                "kind": kind,
                "namespace": namespace,
                "name": name,
                "uid": meta.get("uid"),
            },
            "spec": obj.get("spec") or {},
            "status": {
                k: status.get(k)
                for k in ("lastAppliedRevision", "lastAttemptedRevision", "conditions", "history", "observedGeneration")
                if k in status
            },
        }
    )
    stable = {**data["status"], "history": [_stable(h) for h in status.get("history") or [] if isinstance(h, dict)]}
    content = sorted_json_hash16(stable)
    key_name = f"{namespace}/{kind}/{name}"
    last = seen.get(key_name) or {}
    records = []
    if last.get("content") != content:
        key = f"flux:{source.name}:{kind.lower()}:{key_name}:{last.get('content', 'first')}:{content}"
        records.append(Record(f"flux.{kind.lower()}", source.name, subject, key, data, observed_at=observed_at))
    history = [h for h in status.get("history") or [] if isinstance(h, dict)]
    gap = history_gap(source, subject, kind, placement, history, last, observed_at)
    if gap is not None:
        records.append(gap)
    state = {"content": content, **_newest(kind, history, last)}
    return records, (key_name, state)


def _stable(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in VOLATILE}


def _newest(kind: str, history: list[dict[str, Any]], last: dict[str, Any]) -> dict[str, Any]:
    if not history:
        return {k: v for k, v in last.items() if k != "content"}
    if kind == "HelmRelease":
        newest = max(history, key=lambda h: h.get("version") or 0)
        return {"version": newest.get("version"), "at": newest.get("firstDeployed")}
    newest = max(history, key=lambda h: h.get("firstReconciled") or "")
    return {
        "digest": newest.get("digest"),
        "at": newest.get("firstReconciled"),
        "revision": (newest.get("metadata") or {}).get("revision"),
    }


def history_gap(
    source: Source,
    subject: str,
    kind: str,
    placement: Placement,
    history: list[dict[str, Any]],
    last: dict[str, Any],
    observed_at: datetime,
) -> Record | None:
    """Releases (by version) or reconciliations (by time) between two harvests that nothing saw."""
    from evidence.readmodels.models import Deployment

    if not history or not last.get("at"):
        return None
    rows = Deployment.objects.filter(source=source.name, subject=subject)
    if kind == "HelmRelease":
        versions = sorted(h["version"] for h in history if isinstance(h.get("version"), int))
        if not versions or not isinstance(last.get("version"), int) or versions[0] <= last["version"] + 1:
            return None
        missing = list(range(last["version"] + 1, versions[0]))
        covered = set(rows.filter(external_id__in=[f"v{v}" for v in missing]).values_list("external_id", flat=True))
        uncovered: list[Any] = [v for v in missing if f"v{v}" not in covered]
        before = min(history, key=lambda h: h.get("version") or 0).get("firstDeployed")
    else:
        if any(h.get("digest") == last.get("digest") for h in history) or len(history) < 5:
            return None  # the last one we knew is still listed, or nothing was dropped
        before = min(history, key=lambda h: h.get("firstReconciled") or "").get("firstReconciled")
        start, end = parse_time(last["at"], lenient=True), parse_time(before, lenient=True)
        if start is None or end is None:
            return None
        seen_between = rows.filter(started_at__gt=start, started_at__lt=end).exists()
        uncovered = [] if seen_between else ["unknown"]  # how many were dropped cannot be known
    if not uncovered:
        return None
    data = {
        "controller": "flux",
        "environment": placement.environment,
        "application": placement.application,
        "missing": uncovered,
        "after": last.get("at"),
        "before": before,
    }
    key = f"flux:{source.name}:gap:{subject}:{last.get('at')}:{before}"
    return Record("deploy.gap", source.name, subject, key, data, observed_at=observed_at)
