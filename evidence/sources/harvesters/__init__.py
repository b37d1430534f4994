"""Registry of harvesters by source kind, imported lazily (each pulls in its client library)."""

from __future__ import annotations

from importlib import import_module

from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult

HARVESTERS: dict[str, str] = {
    # kind: "module:Class" -- each area adds its line.
    "oci": "evidence.sources.oci.harvester:OciHarvester",
    "argocd": "evidence.sources.controllers.argocd:ArgoCDHarvester",
    "flux": "evidence.sources.controllers.flux:FluxHarvester",
    "kubernetes": "evidence.sources.controllers.kubernetes:KubernetesPodsHarvester",
    "github": "evidence.sources.forges.github:GitHubHarvester",
    "gitlab": "evidence.sources.forges.gitlab:GitLabHarvester",
}


def get_harvester(kind: str) -> Harvester:
    try:
        module, _, name = HARVESTERS[kind].partition(":")
    except KeyError:
        raise HarvestError(f"no harvester for sources of kind {kind!r}") from None
    return getattr(import_module(module), name)()


__all__ = ["HARVESTERS", "HarvestError", "HarvestResult", "Harvester", "get_harvester"]
