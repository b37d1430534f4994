"""Content providers by scope type: each turns a scope into PackContent.

The interface is `build(scope, checkpoint_size) -> PackContent`: gather the entries (all with
seq < checkpoint_size, so each can be proven against the pack's one checkpoint), compute the
figures with exports.figures, and lay out sections. Providers read; they never write.

Registered lazily as "module:Class". `deployment`, `environment` and `repository` are built on
the chain of custody (providers/custody.py).
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from ..content import PackContent
from ..scope import Scope, ScopeError


class ContentProvider(Protocol):
    def build(self, scope: Scope, checkpoint_size: int) -> PackContent: ...


PROVIDERS: dict[str, str] = {
    "entries": "exports.pack.providers.entries:EntriesProvider",
    "deployment": "exports.pack.providers.custody:DeploymentPack",
    "environment": "exports.pack.providers.workpaper:EnvironmentWorkpaper",
    "repository": "exports.pack.providers.custody:RepositoryPeriodPack",
}


def get_provider(scope_type: str) -> ContentProvider:
    try:
        module, _, name = PROVIDERS[scope_type].partition(":")
    except KeyError:
        raise ScopeError(
            f"type: no content provider for {scope_type!r} scopes is installed yet "
            f"(available: {', '.join(sorted(PROVIDERS))})"
        ) from None
    provider: ContentProvider = getattr(import_module(module), name)()
    return provider
