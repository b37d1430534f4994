"""Registry of harvesters by source kind, imported lazily (each pulls in its client library)."""

from __future__ import annotations

from importlib import import_module

from .base import Harvester, HarvestError, HarvestResult

HARVESTERS: dict[str, str] = {
    # kind: "module:Class" -- each area adds its line.
    "oci": "evidence.harvesters.oci:OciHarvester",
    "argocd": "evidence.harvesters.argocd:ArgoCDHarvester",
    "flux": "evidence.harvesters.flux:FluxHarvester",
    "kubernetes": "evidence.harvesters.kubernetes:KubernetesPodsHarvester",
    "github": "evidence.harvesters.github:GitHubHarvester",
    "gitlab": "evidence.harvesters.gitlab:GitLabHarvester",
}


def get_harvester(kind: str) -> Harvester:
    try:
        module, _, name = HARVESTERS[kind].partition(":")
    except KeyError:
        raise HarvestError(f"no harvester for sources of kind {kind!r}") from None
    return getattr(import_module(module), name)()


__all__ = ["HARVESTERS", "HarvestError", "HarvestResult", "Harvester", "get_harvester"]
