"""The one list of source kinds: each with its harvester and config schema, forges with the rest.

Everything that needs the list reads it here: Source.kind's choices, the harvester lookup, the
sources file, the admin form, the webhook routes of forges, the forge projector, custody and packs.
"""

from __future__ import annotations

from typing import Any

from evidence.sources.controllers.schemas import ArgoCDConfig, FluxConfig, KubernetesConfig
from evidence.sources.forges import github, gitlab
from evidence.sources.forges.base import Forge
from evidence.sources.harvesters.base import Harvester, HarvestError, SourceKind
from evidence.sources.oci.schema import OciConfig
from evidence.sources.schemas import config_problem

KINDS: dict[str, SourceKind] = {
    k.name: k
    for k in (
        github.FORGE,
        gitlab.FORGE,
        SourceKind(name="oci", harvester="evidence.sources.oci.harvester:OciHarvester", schema=OciConfig),
        SourceKind(
            name="argocd",
            harvester="evidence.sources.controllers.argocd:ArgoCDHarvester",
            schema=ArgoCDConfig,
            receiver="evidence.sources.webhooks.argocd:receive",
        ),
        SourceKind(
            name="flux",
            harvester="evidence.sources.controllers.flux:FluxHarvester",
            schema=FluxConfig,
            receiver="evidence.sources.webhooks.flux:receive",
        ),
        SourceKind(
            name="kubernetes",
            harvester="evidence.sources.controllers.kubernetes:KubernetesPodsHarvester",
            schema=KubernetesConfig,
        ),
    )
}
FORGES: dict[str, Forge] = {name: k for name, k in KINDS.items() if isinstance(k, Forge)}
# When a URL names no forge we know (a repository in SLSA provenance): GitHub's URL shapes.
DEFAULT_FORGE = "github"
_ENTRY_FORGES = {entry: forge for forge in FORGES.values() for entry in forge.normalisers}


def kind_choices() -> list[tuple[str, str]]:
    """Choices of Source.kind (a callable, so a new kind needs no migration)."""
    return [(name, name) for name in KINDS]


def forge_choices() -> list[tuple[str, str]]:
    """Choices of the forge field of the forge read models."""
    return [(name, forge.label) for name, forge in FORGES.items()]


def get_kind(name: str) -> SourceKind | None:
    return KINDS.get(name)


def get_harvester(kind: str) -> Harvester:
    """The harvester of a kind, imported on first use (each pulls in its client library)."""
    found = get_kind(kind)
    if found is None:
        raise HarvestError(f"no harvester for sources of kind {kind!r}")
    return found.load_harvester()


def get_forge(name: str) -> Forge | None:
    return FORGES.get(name)


def check_config(kind: str, config: Any, also_allowed: frozenset[str] = frozenset()) -> str | None:
    """What is wrong with a config for a kind of source, in one line; None when it is valid."""
    found = KINDS.get(kind)
    if found is None:
        return f"'kind' must be one of {', '.join(sorted(KINDS))}"
    return config_problem(found.schema, config, also_allowed)


# --- forge entries ----------------------------------------------------------------------------


def entry_kinds(record: type) -> list[str]:
    """Ledger entry kinds, of every forge, that read into this kind of record (Change, Approvals...)."""
    return [kind for forge in FORGES.values() for kind, n in forge.normalisers.items() if n.record is record]


def read_entry(kind: str, data: dict[str, Any]) -> tuple[Forge, Any]:
    """The forge of a ledger entry kind, and the entry's payload as a forge-neutral record."""
    forge = _ENTRY_FORGES[kind]
    return forge, forge.normalisers[kind].read(data)


# --- URLs -------------------------------------------------------------------------------------


def forge_of_url(url: str) -> Forge | None:
    """The forge whose URL shape this is (a change or commit page), if any: the most specific match."""
    found = [(len(m), forge) for forge in FORGES.values() for m in forge.url_markers() if url and m in url]
    return max(found, key=lambda pair: pair[0])[1] if found else None


def commit_url_of_change(forge: str, change_url: str, sha: str) -> str:
    """The web page of a commit, in the repository of a change (its URL); '' when that is unknown."""
    found = FORGES.get(forge)
    repository = found.repository_url(change_url) if found else None
    return found.commit_url(repository, sha) if found and repository else ""


def commit_url_of_repository(repository_url: str, sha: str) -> str:
    """The web page of a commit in a repository of a forge not named (as in SLSA provenance)."""
    return FORGES[DEFAULT_FORGE].commit_url(repository_url, sha)
