"""Which environment and application a controller object belongs to.

A source's `environment` applies to everything it reports; finer rules in its config map objects
to an environment and an application name. The first rule whose every pattern matches wins:

    environments:
      - match: {project: payments, namespace: "prod-*"}   # shell-style patterns
        environment: prod
        application: "{name}"                             # optional; default is the object's name

Facts a rule can match: name, kind, namespace, project, cluster (and `label:<key>` for pods).
With no rule and no source environment the environment is "unknown": unknown is a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidence.sources.models import Source

UNKNOWN = "unknown"
FACTS = {"name", "kind", "namespace", "project", "cluster"}


class MappingError(ValueError):
    """A rule in a source's config cannot be used; the message names the source and the rule."""


@dataclass(frozen=True)
class Placement:
    environment: str
    application: str
    rule: int | None  # index of the rule that matched, None for the source default


def place(source: Source, facts: Mapping[str, str]) -> Placement:
    """The environment and application name for an object described by facts (name, namespace...)."""
    rules = source.setting("environments") or []
    if not isinstance(rules, list):
        raise MappingError(f"source {source.name}: 'environments' must be a list of rules")
    for index, rule in enumerate(rules):
        where = f"source {source.name}: environments rule {index + 1}"
        if not isinstance(rule, dict) or not isinstance(rule.get("environment"), str):
            raise MappingError(f"{where}: needs 'environment' (a string)")
        match = rule.get("match") or {}
        if not isinstance(match, dict):
            raise MappingError(f"{where}: 'match' must be a mapping")
        unknown = [k for k in match if k not in FACTS and not str(k).startswith("label:")]
        if unknown:
            raise MappingError(f"{where}: cannot match on {', '.join(map(str, unknown))}")
        if all(fnmatchcase(str(facts.get(key, "")), str(pattern)) for key, pattern in match.items()):
            return Placement(rule["environment"], _application(rule.get("application"), facts, where), index)
    return Placement(source.environment or UNKNOWN, facts.get("name", "") or UNKNOWN, None)


def _application(template: Any, facts: Mapping[str, str], where: str) -> str:
    if template is None:
        return facts.get("name", "") or UNKNOWN
    try:
        return str(template).format_map({k: v for k, v in facts.items() if ":" not in k})
    except (KeyError, ValueError) as exc:
        raise MappingError(f"{where}: application template {template!r}: {exc}") from None
