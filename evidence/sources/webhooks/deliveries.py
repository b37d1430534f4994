"""What the controller webhooks share: per-source secrets, JSON bodies, answers with a message."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse

from evidence.core.secrets import read_secret
from evidence.sources.models import Source


class Refused(Exception):
    """A delivery that is not taken: nothing is written, the sender gets status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JsonResponse:
        return JsonResponse({"detail": self.message}, status=self.status)


def source_secret(source: Source, setting_key: str, default: str) -> str:
    """The source's own secret (env var named in its config, or VAR_FILE), else the global one."""
    name = source.setting(setting_key)
    if not name:
        return default
    return read_secret(name)


def candidate_sources(request: HttpRequest, kind: str) -> list[Source]:
    """Enabled sources of this kind; `?source=NAME` on the hook URL narrows to one."""
    sources = Source.objects.filter(kind=kind, enabled=True)
    wanted = request.GET.get("source")
    if wanted:
        sources = sources.filter(name=wanted)
    found = list(sources)
    if not found:
        raise Refused(403, f"no enabled {kind} source{' named ' + wanted if wanted else ''} accepts deliveries")
    return found


def one_source(matches: list[Source], kind: str) -> Source:
    if not matches:
        raise Refused(403, "signature or token not accepted")
    if len(matches) > 1:
        names = ", ".join(s.name for s in matches)
        raise Refused(400, f"several {kind} sources ({names}) share this secret; add ?source=NAME to the hook URL")
    return matches[0]


def read_body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise Refused(413, "body too large") from None


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "body is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, "body must be a JSON object")
    return value
