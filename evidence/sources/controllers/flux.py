"""Flux: Kustomization and HelmRelease status through the Kubernetes API.

One `flux.kustomization` / `flux.helmrelease` record per object and change of status (last
applied revision, conditions, status.history with its last five reconciliations or releases).
The harvest-run entry says what history each object listed and what rolled over since the last
harvest; the run is partial when no ledger entry (a notification-controller event) covers that.
Whether it is a gap in the evidence is the gap projector's call, from the ledger alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubernetes import client

from evidence.core.digests import sorted_json_hash16
from evidence.core.jsonvalues import without_floats
from evidence.core.times import parse_time
from evidence.sources.controllers.history import CLOCK_SKEW, FLUX_HISTORY_KEPT, HELM_KINDS, helm_versions
from evidence.sources.controllers.kubernetes import ALL, api_client, call
from evidence.sources.environment_rules import MappingError, place
from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult
from ledger.envelope import Record
from ledger.models import Entry

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
        history: dict[str, dict[str, Any]] = {}
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
                    records, (key, state), listed = object_records(source, obj, kind, controller, seen, observed_at)
                except MappingError as exc:
                    raise HarvestError(str(exc)) from None
                result.records.extend(records)
                if listed:
                    history[key] = listed
                rolled = (listed or {}).get("rolled_over")
                if rolled and unrecorded(source.name, f"flux:{key}", kind, rolled):
                    result.errors.append(f"flux:{key}: history rolled over unseen")
                seen[key] = state
        result.cursor = {"objects": seen}
        result.observed.update(counts)
        result.observed["history"] = history
        return result


def object_records(
    source: Source, obj: dict[str, Any], kind: str, controller: str, seen: dict[str, Any], observed_at: datetime
) -> tuple[list[Record], tuple[str, dict[str, Any]], dict[str, Any] | None]:
    """The object's record (when its status changed), its new cursor state, and what its history
    listed for the harvest-run entry (None without history)."""
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
    state = {"content": content, **_newest(kind, history, last)}
    return records, (key_name, state), listed(kind, history, last)


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


def listed(kind: str, history: list[dict[str, Any]], last: dict[str, Any]) -> dict[str, Any] | None:
    """What the history listed (Helm versions, or the span of reconciliations) and, from the cursor
    alone, what rolled over since the last harvest: `{"missing", "after", "before"}`."""
    if not history:
        return None
    if kind == "HelmRelease":
        versions = sorted(h["version"] for h in history if isinstance(h.get("version"), int))
        out: dict[str, Any] = {"versions": [versions[0], versions[-1]] if versions else []}
        if versions and isinstance(last.get("version"), int) and versions[0] > last["version"] + 1:
            before = min(history, key=lambda h: h.get("version") or 0).get("firstDeployed")
            missing = list(range(last["version"] + 1, versions[0]))
            out["rolled_over"] = {"missing": missing, "after": last.get("at"), "before": before}
        return out
    times = sorted(str(h.get("firstReconciled") or "") for h in history)
    out = {"reconciled": [times[0], times[-1]], "items": len(history)}
    still_listed = any(h.get("digest") == last.get("digest") for h in history)
    if not last.get("at") or len(history) < FLUX_HISTORY_KEPT or still_listed:
        return out  # nothing known before, nothing dropped, or the last one we knew is still listed
    if parse_time(last["at"], lenient=True) is not None and parse_time(times[0], lenient=True) is not None:
        # how many were dropped cannot be known: reconciliations carry no sequence number
        out["rolled_over"] = {"missing": ["unknown"], "after": last["at"], "before": times[0]}
    return out


def unrecorded(source: str, subject: str, kind: str, rolled: dict[str, Any]) -> list[Any]:
    """What of a rollover no ledger entry holds: Helm versions no entry names, or ["unknown"] when
    no event happened between the last reconciliation we knew and the oldest one listed now."""
    after = parse_time(rolled.get("after"), lenient=True)
    events = Entry.objects.filter(kind="flux.event", source=source, subject=subject)
    if kind != "HelmRelease":
        before = parse_time(rolled.get("before"), lenient=True)
        return [] if events.filter(occurred_at__gt=after, occurred_at__lt=before).exists() else ["unknown"]
    wanted = set(rolled["missing"])
    entries = Entry.objects.filter(kind__in=HELM_KINDS, source=source, subject=subject)
    if after is not None:
        entries = entries.filter(observed_at__gte=after - CLOCK_SKEW)
    found: set[int] = set()
    for entry in entries.only("kind", "payload").iterator():
        found |= wanted & helm_versions(entry.kind, entry.data)
    return sorted(wanted - found)
