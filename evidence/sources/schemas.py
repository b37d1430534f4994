"""What a source's configuration may hold: one pydantic schema per kind, unknown keys refused.

The schemas check the shape of what the sources file and the admin accept (a misspelt key is an
error, not a silently ignored setting); harvesters still read the stored config with
`Source.setting`. Each kind's schema lives beside its harvester and is named in `kinds.py`.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evidence.sources.environment_rules import FACTS


class SourceConfig(BaseModel):
    """Base of every kind's schema: the keys of `Source.config` (the sources file's other keys)."""

    model_config = ConfigDict(extra="forbid")


class EnvironmentRule(BaseModel):
    """One rule of `environments` (see evidence.sources.environment_rules)."""

    model_config = ConfigDict(extra="forbid")

    match: dict[str, str] = Field(default_factory=dict)
    environment: str
    application: str | None = None

    @field_validator("match")
    @classmethod
    def _known_facts(cls, match: dict[str, str]) -> dict[str, str]:
        unknown = [k for k in match if k not in FACTS and not k.startswith("label:")]
        if unknown:
            raise ValueError(f"cannot match on {', '.join(unknown)}")
        return match


class SourceFields(BaseModel):
    """The keys of a sources-file entry that are Source fields rather than config."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    kind: str
    url: str = ""
    credential_env: str = ""
    environment: str = ""
    schedule: int = Field(default=3600, gt=0)
    enabled: bool = True


TOP_LEVEL = frozenset(SourceFields.model_fields)


def config_problem(schema: type[SourceConfig], config: Any, also_allowed: frozenset[str] = frozenset()) -> str | None:
    """The first thing wrong with config for schema, in one line (None when it is valid)."""
    if not isinstance(config, dict):
        return "the configuration must be a mapping of keys to values"
    try:
        schema.model_validate(config)
    except ValidationError as exc:
        return describe(exc, sorted({*schema.model_fields, *also_allowed}))
    return None


def describe(exc: ValidationError, known: list[str]) -> str:
    """One line for the first error: the key, and what is wrong with it."""
    error = exc.errors()[0]
    loc = error["loc"]
    where = _path(loc)
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        inside = f" in {_path(loc[:-1])}" if len(loc) > 1 else ""
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75) if len(loc) == 1 else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {key!r}{inside}{hint}"
    if error["type"] == "missing":
        return f"{where!r} is required"
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    return f"{where!r}: {message}" if loc else message  # no loc: a check across keys


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
