"""Drift per container: does what a pod runs match what the deployment deployed? Three answers.

`match`: the container runs the digest the deployment resolved for that container name (or one
of the deployment's digests, where the controller named digests but not containers), or it is a
sidecar the environment declares. `drift`: the digest is known and is not the deployment's, an
ephemeral container (a debugging session) among them. `unknown`: no digest is known on one side
(the pod reports none, or the deployment's tag never resolved): never "no drift".

Pure: works on plain values, so the running view and the custody rule judge alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MATCH, DRIFT, UNKNOWN = "match", "drift", "unknown"


@dataclass(frozen=True)
class ContainerVerdict:
    pod: str
    container: str
    type: str  # container, init or ephemeral
    digest: str
    state: str  # match, drift or unknown
    reason: str
    started_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "pod": self.pod,
            "container": self.container,
            "type": self.type,
            "digest": self.digest,
            "state": self.state,
            "reason": self.reason,
            "started_at": self.started_at,
        }


def judge_container(
    container: Mapping[str, Any], digest: str | None, by_name: Mapping[str, set[str]], digests: set[str]
) -> ContainerVerdict:
    """One running container against the deployment: `by_name` maps the deployment's container
    names to the digests they resolved to ("" for one that did not); `digests` is every digest it
    deployed."""
    name, kind = str(container.get("name") or ""), str(container.get("type") or "container")
    started = container.get("started_at") or container.get("pod_started_at")

    def verdict(state: str, reason: str) -> ContainerVerdict:
        return ContainerVerdict(str(container.get("pod") or ""), name, kind, digest or "", state, reason, started)

    if container.get("sidecar"):
        return verdict(MATCH, "a sidecar the environment declares")
    if not digest:
        return verdict(UNKNOWN, "the pod reports no registry digest for it")
    if kind == "ephemeral":
        return verdict(DRIFT, "an ephemeral container added to a running pod")
    if name in by_name:
        expected = by_name[name]
        if digest in expected:
            return verdict(MATCH, "the digest deployed for this container")
        if "" in expected or not expected:
            return verdict(UNKNOWN, "the deployment's reference for this container never resolved to a digest")
        named = ", ".join(sorted(d[:19] for d in expected))
        return verdict(DRIFT, f"the deployment deployed {named} for this container")
    if digest in digests:
        return verdict(MATCH, "a digest the deployment deployed")
    if not digests and not by_name:
        return verdict(UNKNOWN, "no digest is known for the deployment")
    if not digests:
        return verdict(UNKNOWN, "the deployment's references never resolved to digests")
    return verdict(DRIFT, "a digest the deployment did not deploy")


def overall(verdicts: Iterable[ContainerVerdict]) -> str:
    """drift if any container drifts, else unknown if any is unknown (or none was seen), else match."""
    states = {v.state for v in verdicts}
    if DRIFT in states:
        return DRIFT
    if UNKNOWN in states or not states:
        return UNKNOWN
    return MATCH


def judge_snapshot(
    images: Iterable[Mapping[str, Any]], by_name: Mapping[str, set[str]], digests: set[str], digest_of: Any
) -> list[ContainerVerdict]:
    """Every container of a pods snapshot (`images` rows as projected), judged."""
    return [judge_container(c, digest_of(c.get("imageID")), by_name, digests) for c in images]
