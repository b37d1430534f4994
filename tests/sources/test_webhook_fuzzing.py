"""Whatever arrives at a receiver (random JSON, wrong types where the fields we use belong, nesting
thousands of levels deep, random headers, random bytes), the answer is never a 5xx, and a
refused delivery is refused in the one shape and leaves nothing in the ledger.

Most examples carry a valid credential for the body they send, so they reach parsing,
validation and recording rather than stopping at verification.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .hooks import RECEIVERS, credential_for, delivery_headers, refusal, send, valid, written

pytestmark = pytest.mark.usefixtures("hook_sources")

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

# Every path into the valid payloads whose value a receiver reads.
USED = {
    "github": [
        ("repository",),
        ("repository", "full_name"),
        ("pull_request",),
        ("pull_request", "number"),
        ("action",),
        ("ref",),
    ],
    "gitlab": [
        ("project",),
        ("project", "path_with_namespace"),
        ("object_attributes",),
        ("object_attributes", "iid"),
        ("object_attributes", "action"),
        ("object_kind",),
        ("merge_request",),
    ],
    "argocd": [
        ("app",),
        ("app", "status"),
        ("app", "metadata"),
        ("app", "metadata", "name"),
        ("app", "spec"),
        ("app", "spec", "destination"),
        ("app", "status", "history"),
        ("app", "status", "history", 0),
        ("app", "status", "history", 0, "deployedAt"),
        ("app", "status", "operationState"),
        ("app", "status", "summary", "images"),
    ],
    "flux": [
        ("involvedObject",),
        ("involvedObject", "name"),
        ("metadata",),
        ("metadata", "cluster"),
        ("timestamp",),
        ("reason",),
        ("reportingController",),
    ],
}
CREDENTIALS = ("X-Hub-Signature-256", "X-Gitlab-Token", "Authorization", "X-Signature")
OTHER_HEADERS = ("X-GitHub-Delivery", "X-GitHub-Event", "X-GitHub-Hook-ID", "X-Gitlab-Event", "Idempotency-Key")
OTHER_HEADERS += ("X-Gitlab-Event-UUID", "X-Gitlab-Instance", "Content-Type", "X-Forwarded-For")

text = st.text(st.characters() | st.sampled_from("\x00/\n"), max_size=30)  # NUL: PostgreSQL text refuses it
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities too: json.dumps writes them, and they are not JSON
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
# Random text, often behind the prefix a credential starts with, so that it reaches the comparison.
header_text = st.text(st.characters() | st.sampled_from("\x00\t\x7fé€"), max_size=70)
header_values = st.tuples(st.sampled_from(["", "sha256=", "Bearer "]), header_text).map("".join)
OWN_CREDENTIAL = dict(zip(RECEIVERS, CREDENTIALS, strict=True))


def put(payload: Any, path: tuple, value: Any) -> Any:
    """payload with the value at path replaced (parents made objects where they are not)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(payload) if isinstance(payload, list) and len(payload) > head else [None] * (head + 1)
        items[head] = put(items[head], rest, value)
        return items
    target = dict(payload) if isinstance(payload, dict) else {}
    target[head] = put(target.get(head), rest, value)
    return target


def encode(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", errors="surrogatepass")


def check(client, receiver: str, body: bytes, headers: dict[str, str], query: str = "") -> None:
    before = written()
    response = send(client, receiver, body, headers, query=query)
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        refusal(response)
        assert written() == before, "a refused delivery must leave nothing in the ledger"


def headers_for(receiver: str, body: bytes, credential: str, delivery: str) -> dict[str, str]:
    headers = delivery_headers(receiver, delivery)
    if credential == "valid":
        headers.update(credential_for(receiver, body))
    elif credential == "wrong":
        headers.update(credential_for(receiver, body, "not-the-secret"))
    return headers


@FUZZ
@given(
    receiver=st.sampled_from(RECEIVERS),
    value=json_values,
    ascii_only=st.booleans(),
    credential=st.sampled_from(["valid", "valid", "wrong", "none"]),
    delivery=st.uuids().map(str),
)
def test_it_never_fails_on_random_json(client, receiver, value, ascii_only, credential, delivery):
    body = encode(value, ascii_only)

    check(client, receiver, body, headers_for(receiver, body, credential, delivery))


@FUZZ
@given(data=st.data(), receiver=st.sampled_from(RECEIVERS), value=json_values, delivery=st.uuids().map(str))
def test_it_never_fails_on_wrong_types_where_the_fields_it_uses_belong(client, data, receiver, value, delivery):
    path = data.draw(st.sampled_from(USED[receiver]))
    payload = put(valid(receiver), path, value)
    body = encode(payload, ascii_only=True)

    check(client, receiver, body, headers_for(receiver, body, "valid", delivery))


# The strings that become part of an entry's subject or source lookup.
NAMES = [
    ("github", ("repository", "full_name")),
    ("gitlab", ("project", "path_with_namespace")),
    ("gitlab", ("ref",)),
    ("argocd", ("app", "metadata", "name")),
    ("argocd", ("app", "spec", "project")),
    ("flux", ("involvedObject", "kind")),
    ("flux", ("involvedObject", "name")),
    ("flux", ("involvedObject", "namespace")),
    ("flux", ("metadata", "cluster")),
]


@FUZZ
@given(
    where=st.sampled_from(NAMES),
    name=st.text(st.characters() | st.sampled_from("\x00\x1f/@!#"), max_size=600),
    delivery=st.uuids().map(str),
)
def test_it_never_fails_on_random_text_in_the_names_it_uses(client, where, name, delivery):
    receiver, path = where
    payload = put(valid(receiver), path, name)
    if receiver == "gitlab" and path == ("ref",):
        payload["object_kind"] = "push"
    body = encode(payload, ascii_only=True)

    check(client, receiver, body, headers_for(receiver, body, "valid", delivery))


@FUZZ
@given(
    receiver=st.sampled_from(RECEIVERS),
    full_name=st.integers(min_value=-(2**64), max_value=2**64),
    delivery=st.uuids().map(str),
)
def test_it_refuses_an_integer_full_name_or_project_path(client, receiver, full_name, delivery):
    path = {
        "github": ("repository", "full_name"),
        "gitlab": ("project", "path_with_namespace"),
        "argocd": ("app", "metadata", "name"),
        "flux": ("involvedObject", "name"),
    }[receiver]
    body = encode(put(valid(receiver), path, full_name), ascii_only=True)
    before = written()

    response = send(client, receiver, body, headers_for(receiver, body, "valid", delivery))

    assert response.status_code == 400
    assert refusal(response).startswith(".".join(path) + ": must be a string")
    assert written() == before


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    receiver=st.sampled_from(RECEIVERS),
    levels=st.integers(min_value=5_000, max_value=100_000),
    where=st.sampled_from([(), ("repository",), ("project",), ("pull_request",), ("object_attributes",), ("app",)]),
    bracket=st.sampled_from(["[", '{"a": ']),
)
def test_it_refuses_deep_nesting_at_any_field(client, receiver, levels, where, bracket):
    closing = "]" if bracket == "[" else "}"
    deep = bracket * levels + "0" + closing * levels
    body = (deep if not where else json.dumps(valid(receiver))[:-1] + f', "{where[0]}": {deep}}}').encode()
    before = written()

    response = send(client, receiver, body, headers_for(receiver, body, "valid", "deep"))

    assert response.status_code == 400
    assert refusal(response) == "body nests deeper than 64 levels"
    assert written() == before


@FUZZ
@given(
    receiver=st.sampled_from(RECEIVERS),
    body=st.binary(max_size=600),
    credential=st.sampled_from(["valid", "wrong", "none"]),
    delivery=st.uuids().map(str),
)
def test_it_never_fails_on_random_bytes(client, receiver, body, credential, delivery):
    check(client, receiver, body, headers_for(receiver, body, credential, delivery))


@FUZZ
@given(
    receiver=st.sampled_from(RECEIVERS),
    headers=st.dictionaries(st.sampled_from(CREDENTIALS + OTHER_HEADERS), header_values, max_size=6),
    own=st.none() | header_values,
    signed=st.booleans(),
    query=st.sampled_from(["", "?source=", "?source=argo-prod", "?source=flux-prod", "?source=%00", "?source=%FF"]),
)
def test_it_never_fails_on_random_headers(client, receiver, headers, own, signed, query):
    body = json.dumps(valid(receiver)).encode()
    if own is not None:  # a random credential in the receiver's own header
        headers = {**headers, OWN_CREDENTIAL[receiver]: own}
    if signed:  # random delivery headers beside a valid credential, so they reach recording
        headers = {**headers, **credential_for(receiver, body)}

    check(client, receiver, body, headers, query=query)
