"""Running workloads: which image digests the pods of each application actually run.

One `kubernetes.pods` record per namespace and change: the running pods' container, init
container and ephemeral container statuses (name, image as named, imageID with the registry
digest, when it started), each pod placed in an environment and an application by the source's
rules, and the sidecars each environment declares (`expected_sidecars`) as in force then.
Deployments whose manifests name tags resolve to these digests; a container running another
digest than its deployment's shows as drift.

Also holds the Kubernetes client set-up the Flux harvester shares: the source's url and bearer
token, or `kubeconfig` (+ `context`), or `in_cluster: true`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from evidence.core.digests import json_hash16
from evidence.sources.environment_rules import MappingError, place
from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult
from ledger.envelope import Record

if TYPE_CHECKING:
    from evidence.sources.models import Source

ALL = "*"
APPLICATION_LABELS = ["app.kubernetes.io/instance", "argocd.argoproj.io/instance", "app.kubernetes.io/name", "app"]
TIMEOUT = 30


def api_client(source: Source) -> client.ApiClient:
    """A client for the source's cluster; the credential only ever lives in this configuration."""
    configuration = client.Configuration()
    try:
        if source.setting("in_cluster"):
            config.load_incluster_config(client_configuration=configuration)
        elif source.setting("kubeconfig"):
            config.load_kube_config(
                config_file=source.setting("kubeconfig"),
                context=source.setting("context"),
                client_configuration=configuration,
            )
        else:
            if not source.url:
                raise HarvestError(f"source {source.name}: set url (the API server), kubeconfig or in_cluster")
            configuration.host = source.url.rstrip("/")
            token = source.credential()
            if token:
                configuration.api_key = {"authorization": token}
                configuration.api_key_prefix = {"authorization": "Bearer"}
            if source.setting("ca_cert"):
                configuration.ssl_ca_cert = source.setting("ca_cert")
    except (ConfigException, OSError) as exc:
        raise HarvestError(f"source {source.name}: cannot configure the Kubernetes client: {exc}") from None
    configuration.retries = 1  # one quick retry; the next scheduled harvest is the real retry
    return client.ApiClient(configuration)


def call(source: Source, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one client call; turn its failures into a HarvestError that names the call, never the token."""
    try:
        return fn(*args, _request_timeout=TIMEOUT, **kwargs)
    except ApiException as exc:
        # 401: token missing or expired; 403: RBAC forbids the list; 404: CRD not installed.
        raise HarvestError(f"{source.name}: {what}: HTTP {exc.status} {exc.reason}") from None
    except (HTTPError, OSError) as exc:
        raise HarvestError(
            f"{source.name}: {what}: cannot connect to {source.url or 'the cluster'} ({type(exc).__name__})"
        ) from None


class KubernetesPodsHarvester(Harvester):
    kind = "kubernetes"

    def targets(self, source: Source) -> list[str]:
        return [str(n) for n in source.setting("namespaces") or []] or [ALL]

    def harvest(self, source: Source, target: str, cursor: dict[str, Any]) -> HarvestResult:
        core = client.CoreV1Api(api_client(source))
        # Reference: https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#list-list-or-watch-objects-of-kind-pod
        if target == ALL:
            pods = call(source, "list pods", core.list_pod_for_all_namespaces)
        else:
            pods = call(source, f"list pods in {target}", core.list_namespaced_pod, target)
        observed_at = datetime.now(UTC)
        running = []
        try:
            for item in pods.items:
                if item.status and item.status.phase == "Running":
                    running.append(pod_record(source, item))
        except MappingError as exc:
            raise HarvestError(str(exc)) from None
        running.sort(key=lambda p: (p["namespace"], p["name"]))
        # Pod names count: a rollout that keeps the digests still replaces the pods, and the new
        # snapshot is what resolves the new deployment's tags to digests.
        # Plain containers keep the tuple they had before init and ephemeral containers were
        # recorded, so an unchanged namespace keeps its key (a rerun over an older ledger appends
        # nothing); the other kinds, and the sidecars declared, add their own tuples.
        content: list[tuple[str, ...]] = sorted(
            {
                (p["name"], p["environment"], p["application"], c["image"], c["imageID"])
                if c["type"] == "container"
                else (p["name"], p["environment"], p["application"], c["name"], c["type"], c["image"], c["imageID"])
                for p in running
                for c in p["containers"]
            }
        )
        sidecars = {str(k): sorted(str(n) for n in v) for k, v in (source.setting("expected_sidecars") or {}).items()}
        if sidecars:
            content.append(("expected_sidecars", json_hash16(sidecars)))
        digest = json_hash16(content)
        result = HarvestResult(requests=1, cursor={"content": digest})
        result.observed = {"pods": len(running), "namespace": target}
        if cursor.get("content") == digest:
            return result  # nothing changed since the last snapshot; the run entry says we looked
        data = {"namespace": target, "cluster": source.setting("cluster") or "", "pods": running}
        if sidecars:
            data["expected_sidecars"] = sidecars
        key = f"kubernetes:{source.name}:pods:{target}:{cursor.get('content', 'first')}:{digest}"
        result.records.append(
            Record("kubernetes.pods", source.name, f"kubernetes:{target}", key, data, observed_at=observed_at)
        )
        return result


def pod_record(source: Source, item: Any) -> dict[str, Any]:
    labels = dict(item.metadata.labels or {})
    label_keys = source.setting("application_labels") or APPLICATION_LABELS
    name = next((labels[k] for k in label_keys if labels.get(k)), "")
    facts = {
        "name": name,
        "kind": "Pod",
        "namespace": item.metadata.namespace or "",
        "cluster": source.setting("cluster") or "",
        **{f"label:{k}": v for k, v in labels.items()},
    }
    placement = place(source, facts)
    return {
        "name": item.metadata.name,
        "namespace": item.metadata.namespace,
        "environment": placement.environment,
        "application": placement.application,
        "started_at": _stamp(item.status.start_time),
        "containers": [
            {
                "name": s.name,
                "type": kind,
                "image": s.image,
                "imageID": s.image_id,
                "ready": bool(s.ready),
                "started_at": _stamp(_started(s)),
            }
            for kind, statuses in (
                ("init", item.status.init_container_statuses),
                ("container", item.status.container_statuses),
                ("ephemeral", item.status.ephemeral_container_statuses),
            )
            for s in statuses or []
        ],
    }


def _started(status: Any) -> Any:
    """When the container (last) started running, or ran to completion (an init container)."""
    state = status.state
    if state is None:
        return None
    if state.running is not None:
        return state.running.started_at
    if state.terminated is not None:
        return state.terminated.started_at
    return None


def _stamp(when: Any) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(when, datetime) else None
