"""One base for every receiver under /hooks/: bound, parse, verify, validate, record, re-harvest.

A receiver declares three things: how a delivery is verified (`verify`, constant-time, against
the secret of the source it is for), the typed model of the fields it uses (`model`), and the
ledger record a delivery becomes (`record`). The base runs them in this order:

1. a body over WEBHOOK_MAX_BODY_BYTES is refused with 413 before anything parses it;
2. the body is parsed (payloads.parse_object: UTF-8 JSON object, depth bounded, no floats);
3. the credential is verified: 401 when missing or malformed, 403 when not accepted. A body that
   failed to parse is refused (400) only after that, so only a verified sender hears why;
4. the fields used are validated into the model: 400 naming the field;
5. the record is appended through ledger.append (idempotency key from the delivery's identity);
   a new forge delivery triggers a re-harvest of its repository once the append has committed.

Every refusal is `{"detail": "..."}` and writes nothing. Entries keep the body (as text or as
parsed, per receiver, as before) and which secret verified it (the variable's name), never the
signature or token itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from evidence.core.metrics import count_delivery
from evidence.core.secrets import SecretFileError, read_secret
from evidence.sources.kinds import FORGES
from evidence.sources.models import Source
from evidence.sources.webhooks.payloads import BodyError, M, parse_object, storable, validate
from ledger.append import append_entry
from ledger.envelope import EnvelopeError, Record

log = logging.getLogger(__name__)

MAX_HEADER_LENGTH = 200  # delivery ids are UUIDs, event names short words
SOURCE_NAME = re.compile(r"[-a-zA-Z0-9_]{1,100}")  # Source.name is a slug


class Refused(Exception):
    """A delivery that is not taken: nothing is written, the sender gets the status and message."""

    def __init__(self, status: int, message: str, allow: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.allow = allow

    def response(self) -> JsonResponse:
        response = JsonResponse({"detail": self.message}, status=self.status)
        if self.allow:
            response["Allow"] = self.allow
        return response


@dataclass(frozen=True)
class Secret:
    env: str  # the variable's name: what an entry records as the key that verified it
    value: str = field(repr=False)


@dataclass(frozen=True)
class Verified:
    """Who sent it, as far as the credential proves: the source (if one is named) and which secret."""

    source: Source | None
    method: str  # "hmac-sha256" (a signature over the body) or "token" (a shared secret sent along)
    header: str
    secret_env: str

    def fact(self) -> dict[str, Any]:
        return {"verified": True, "method": self.method, "header": self.header, "secret_env": self.secret_env}


@dataclass(frozen=True)
class Delivery(Generic[M]):
    request: HttpRequest
    text: str  # the body exactly as sent (valid UTF-8)
    parsed: dict[str, Any]  # the body parsed, inexact numbers as payloads.Number
    event: M  # the fields the receiver uses, validated
    verified: Verified

    @cached_property
    def payload(self) -> dict[str, Any]:
        """The parsed body as ledger data can hold it: inexact numbers as their decimal text."""
        return dict(storable(self.parsed))


@dataclass(frozen=True)
class Outcome:
    record: Record
    reharvest: str | None = None  # the target (repository, project) of the verified source to harvest again


class Receiver(Generic[M]):
    """Subclasses set `model` and implement `verify` and `record`; `view()` is the Django view."""

    model: type[M]
    name: str = "webhook"  # the receiver's label in metrics: github, gitlab, argocd, flux

    def verify(self, request: HttpRequest, body: bytes, payload: dict[str, Any] | None) -> Verified:
        """Verify the credential (payload is None when the body did not parse), or raise Refused."""
        raise NotImplementedError

    def record(self, delivery: Delivery[M]) -> Outcome:
        """The ledger record for a verified, validated delivery, or raise Refused."""
        raise NotImplementedError

    def view(self) -> Callable[[HttpRequest], JsonResponse]:
        @csrf_exempt
        @sensitive_post_parameters()
        @sensitive_variables("secret", "token", "signature", "expected", "header")
        def receive(request: HttpRequest) -> JsonResponse:
            request.exception_reporter_filter = ReporterFilter()
            response = self.handle(request)
            count_delivery(self.name, response.status_code)  # /metrics: deliveries by receiver and outcome
            return response

        return receive

    def handle(self, request: HttpRequest) -> JsonResponse:
        try:
            if request.method != "POST":
                raise Refused(405, "webhook deliveries are POSTed", allow="POST")
            body = read_body(request)
            try:
                text, payload = parse_object(body)
                unusable = None
            except BodyError as exc:
                text, payload, unusable = "", None, Refused(400, str(exc))
            verified = self._verified(request, body, payload)
            if unusable is not None or payload is None:
                raise unusable or Refused(400, "body is not JSON")
            try:
                event = validate(self.model, payload)
            except BodyError as exc:
                raise Refused(400, str(exc)) from None
            outcome = self.record(Delivery(request, text, payload, event, verified))
            return store(outcome, verified.source)
        except Refused as refused:
            return refused.response()

    @sensitive_variables()
    def _verified(self, request: HttpRequest, body: bytes, payload: dict[str, Any] | None) -> Verified:
        # Every frame below this one (the receiver's verify, secret lookups, hmac) shows no values
        # in error reports.
        return self.verify(request, body, payload)


class ReporterFilter(SafeExceptionReporterFilter):
    """Hide what @sensitive_variables marks even on DEBUG error pages (Django's filter does so only
    with DEBUG off): a developer's DEBUG page must not show a webhook secret either."""

    def is_active(self, request: HttpRequest | None) -> bool:
        return True


def read_body(request: HttpRequest) -> bytes:
    """The body, refused with 413 over WEBHOOK_MAX_BODY_BYTES (by its Content-Length, before reading)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    too_large = Refused(413, f"body is larger than {limit} bytes (WEBHOOK_MAX_BODY_BYTES)")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:  # over DATA_UPLOAD_MAX_MEMORY_SIZE
        raise too_large from None
    except UnreadablePostError:
        raise Refused(400, "body could not be read") from None
    if len(body) > limit:
        raise too_large
    return body


def credential(request: HttpRequest, name: str, missing: str) -> str:
    """The header carrying a signature or token: 401 when absent or not printable ASCII."""
    value = request.headers.get(name, "")
    if not value:
        raise Refused(401, missing)
    if not (value.isascii() and value.isprintable()):
        raise Refused(401, f"{name} must be printable ASCII")
    return value


def sha256_signature(request: HttpRequest, missing: str) -> str:
    """The hex digest of an `X-Signature: sha256=<hex>` header (Flux's generic-hmac provider, the
    incident hook): 401 when absent or of another form."""
    algorithm, _, signature = credential(request, "X-Signature", missing).partition("=")
    signature = signature.strip().lower()
    if algorithm != "sha256" or not signature:
        raise Refused(401, "X-Signature must be 'sha256=<hex>'")
    return signature


def header(request: HttpRequest, name: str) -> str | None:
    """A delivery header we record (id, event name): stripped, printable ASCII, short; None if absent."""
    value = request.headers.get(name, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isprintable()) or len(value) > MAX_HEADER_LENGTH:
        raise Refused(400, f"{name} must be printable ASCII of at most {MAX_HEADER_LENGTH} characters")
    return value


def text_at(payload: dict[str, Any] | None, *keys: str) -> str | None:
    """The string at payload[k1][k2]..., or None; for routing a delivery before it is verified."""
    value: Any = payload
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


@sensitive_variables()
def secret_of(source: Source | None, setting_key: str, default_env: str) -> Secret:
    """The source's own secret (the variable its config names under setting_key, or that
    variable's _FILE), else the global one from settings; value '' when none is configured."""
    name = source.setting(setting_key) if source is not None else None
    if not name or not isinstance(name, str):
        return Secret(default_env, getattr(settings, default_env))
    try:
        return Secret(name, read_secret(name))
    except SecretFileError as exc:
        log.error("webhook secret %s cannot be read (%s); deliveries for it are refused", name, exc)
        return Secret(name, "")


def forge_source(kind: str, repository: str | None) -> Source | None:
    """The enabled source of this kind that watches the repository/project (listed, or its org/group)."""
    if not repository:
        return None
    forge = FORGES[kind]
    for source in Source.objects.filter(kind=kind, enabled=True):
        if forge.watches(source.config, repository):
            return source
    return None


def candidate_sources(request: HttpRequest, kind: str) -> list[Source]:
    """Enabled sources of this kind; `?source=NAME` on the hook URL narrows to one."""
    wanted = request.GET.get("source", "")
    if wanted and not SOURCE_NAME.fullmatch(wanted):
        raise Refused(400, "?source= must name a source (letters, digits, - and _)")
    sources = Source.objects.filter(kind=kind, enabled=True)
    if wanted:
        sources = sources.filter(name=wanted)
    found = list(sources)
    if not found:
        raise Refused(403, f"no enabled {kind} source{' named ' + wanted if wanted else ''} accepts deliveries")
    return found


def one_source(matches: list[tuple[Source, str]], kind: str) -> tuple[Source, str]:
    """The one (source, secret variable) whose secret verified the delivery."""
    if not matches:
        raise Refused(403, "signature or token not accepted")
    if len(matches) > 1:
        names = ", ".join(source.name for source, _ in matches)
        raise Refused(400, f"several {kind} sources ({names}) share this secret; add ?source=NAME to the hook URL")
    return matches[0]


def store(outcome: Outcome, source: Source | None) -> JsonResponse:
    """Append the record; a new one with a target re-harvests it after commit. 202 new, 200 repeat."""
    try:
        appended = append_entry(outcome.record)
    except EnvelopeError as exc:
        raise Refused(413 if "over the limit" in str(exc) else 400, f"delivery not recorded: {exc}") from None
    answer = {"created": appended.created, "seq": appended.seq, "source": source.name if source else None}
    if not appended.created:
        return JsonResponse({"status": "duplicate", **answer}, status=200)
    reharvest = source is not None and bool(outcome.reharvest)
    if source is not None and outcome.reharvest:
        schedule_reharvest(source.pk, outcome.reharvest)
    return JsonResponse({"status": "recorded", **answer, "reharvest": reharvest}, status=202)


def schedule_reharvest(source_id: int, target: str) -> None:
    """Harvest the target again once the delivery is committed. The delivery is already evidence:
    a broker outage (or an inline harvest failing) is logged, and the beat's harvest_due sweep
    harvests the source on its schedule."""

    def send() -> None:
        from evidence.sources.tasks import harvest_target

        try:
            harvest_target.delay(source_id, target)
        except Exception as exc:
            log.warning(
                "re-harvest of %s (source %d) after a webhook delivery not started: %s; "
                "the scheduled harvest (harvest_due) will cover it",
                target,
                source_id,
                exc,
            )

    transaction.on_commit(send, robust=True)
