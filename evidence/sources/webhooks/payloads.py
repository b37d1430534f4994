"""Webhook bodies: parsed as bounded JSON without floats, then validated into typed models.

Django-free. A body must be a UTF-8 JSON object nested at most MAX_DEPTH levels; the depth is
measured on the text before `json.loads` (which recurses) ever sees it. Numbers the ledger cannot
hold exactly (fractions, exponents, integers beyond 2**53) are parsed as `Number`, the decimal
text the sender wrote, and stored as that text (`storable`); NaN/Infinity (not JSON) are refused.
So no float reaches ledger data. Each receiver validates only the fields it uses, strictly: a
number where a string belongs (or the reverse, or a list) is an error, never coerced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError

MAX_DEPTH = 64  # GitHub's deepest payloads nest about 8 levels, Argo CD's about 10
MAX_SAFE_INTEGER = 2**53 - 1  # the ledger's canonical numbers are IEEE-754 doubles (RFC 8785)

# A JSON string, possessively matched so that an unterminated one runs to the end in linear time.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class BodyError(ValueError):
    """A body the receivers cannot use; the message says why (and names the field)."""


@dataclass(frozen=True, slots=True)
class Number:
    """A JSON number kept as written: not a str (so no str field takes it) and not a float."""

    text: str


def storable(value: Any) -> Any:
    """A parsed body with each Number as its text: what ledger data can hold (depth is bounded)."""
    if type(value) is Number:
        return value.text
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text, found without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def parse_object(body: bytes) -> tuple[str, dict[str, Any]]:
    """The body as text and as a JSON object (inexact numbers as Number), or BodyError."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"body is not UTF-8 (byte {exc.start})") from None
    if nesting_depth(text) > MAX_DEPTH:
        raise BodyError(f"body nests deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_float=Number, parse_int=_integer, parse_constant=_not_json)
    except BodyError:
        raise
    except json.JSONDecodeError as exc:
        raise BodyError(f"body is not JSON: {exc.msg} (line {exc.lineno} column {exc.colno})") from None
    except (ValueError, RecursionError):
        raise BodyError("body is not JSON") from None
    if not isinstance(value, dict):
        raise BodyError("body must be a JSON object")
    return text, value


def _integer(text: str) -> int | Number:
    if len(text) > 17:  # more digits than 2**53 has (and int() of a huge text is slow)
        return Number(text)
    value = int(text)
    return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else Number(text)


def _not_json(name: str) -> None:
    raise BodyError(f"body is not JSON: {name} is not a JSON number")


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time (as Go, Kubernetes and Argo CD write them: T, offset or Z, any fraction)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time")
    date, time, fraction, offset = match.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    return datetime.fromisoformat(f"{date}T{time}{(fraction or '')[:7]}{offset}")


def _rfc3339(value: str) -> str:
    try:
        parse_rfc3339(value)
    except ValueError:
        raise PydanticCustomError("rfc3339", "must be an RFC 3339 time such as 2026-03-01T12:00:00Z") from None
    return value


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value


# A name that becomes part of an entry's subject (repository, project, application, object).
Name = Annotated[str, StringConstraints(min_length=1, max_length=512), AfterValidator(_no_control)]
# A time kept as the text the sender wrote, checked to be RFC 3339.
Time = Annotated[str, AfterValidator(_rfc3339)]


class Payload(BaseModel):
    """The fields of a delivery a receiver uses; other fields are ignored here (and kept in the body)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class CamelPayload(Payload):
    """Kubernetes-style field names (`involvedObject`, `deployedAt`) for snake_case attributes."""

    model_config = ConfigDict(alias_generator=to_camel)


M = TypeVar("M", bound=Payload)

_PHRASES: dict[str, Callable[[ErrorDetails], str]] = {
    "missing": lambda e: "is required",
    "string_type": lambda e: "must be a string",
    "int_type": lambda e: "must be an integer",
    "bool_type": lambda e: "must be true or false",
    "list_type": lambda e: "must be a list",
    "dict_type": lambda e: "must be an object",
    "model_type": lambda e: "must be an object",
    "model_attributes_type": lambda e: "must be an object",
    "string_too_short": lambda e: "must not be empty",
    "string_too_long": lambda e: f"must be at most {(e.get('ctx') or {}).get('max_length')} characters",
}


def validate(model: type[M], payload: dict[str, Any]) -> M:
    """The payload as the receiver's model, or BodyError naming the fields, e.g.
    `pull_request.number: must be an integer`."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise BodyError(explain(exc)) from None


def explain(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{field_path(e['loc'])}: {_PHRASES.get(e['type'], _message)(e)}" for e in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def _message(error: ErrorDetails) -> str:
    return error["msg"]


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("app", "status", "history", 0, "deployedAt")` -> `app.status.history[0].deployedAt`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"
