"""Bodies are bounded: over WEBHOOK_MAX_BODY_BYTES is a 413 before any parsing, and nesting past
64 levels a 400 before json.loads (which recurses) sees the text."""

from __future__ import annotations

import json

import pytest

from .hooks import RECEIVERS, deliver, encode, refusal, send, valid, written

pytestmark = pytest.mark.usefixtures("hook_sources")

LIMIT = 4096


@pytest.fixture
def small_limit(settings):
    settings.WEBHOOK_MAX_BODY_BYTES = LIMIT


def padded(receiver: str, size: int) -> bytes:
    """The valid delivery of receiver, exactly size bytes long (padded in a field nobody reads)."""
    payload = valid(receiver)
    payload["padding"] = ""
    payload["padding"] = "x" * (size - len(encode(payload)))
    body = encode(payload)
    assert len(body) == size
    return body


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_refuses_a_body_over_the_limit_without_parsing_it(client, small_limit, receiver, monkeypatch):
    def parse_object(body):
        raise AssertionError("an oversized body must not be parsed")

    monkeypatch.setattr("evidence.sources.webhooks.base.parse_object", parse_object)

    response = deliver(client, receiver, padded(receiver, LIMIT + 1))

    assert response.status_code == 413
    assert refusal(response) == f"body is larger than {LIMIT} bytes (WEBHOOK_MAX_BODY_BYTES)"
    assert written() == (0, 0)


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_takes_a_body_of_exactly_the_limit(client, small_limit, receiver):
    response = deliver(client, receiver, padded(receiver, LIMIT))

    assert response.status_code == 202, response.content
    assert written() != (0, 0)


def test_it_refuses_by_the_declared_length_before_reading_the_body(client, small_limit):
    body = encode(valid("argocd"))

    # The declared length is more than is sent: reading would fail; the declaration alone is refused.
    response = deliver(client, "argocd", body, CONTENT_LENGTH=str(LIMIT + 1))

    assert response.status_code == 413
    assert written() == (0, 0)


def test_it_refuses_a_body_over_the_default_limit_of_one_mebibyte(client):
    response = deliver(client, "github", padded("github", 1024 * 1024 + 1))

    assert response.status_code == 413
    assert written() == (0, 0)


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_takes_64_levels_of_nesting(client, receiver):
    body = json.dumps(valid(receiver))[:-1] + f', "deep": {nested(63)}}}'

    response = deliver(client, receiver, body.encode())

    assert response.status_code == 202, response.content


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_refuses_65_levels_of_nesting(client, receiver):
    body = json.dumps(valid(receiver))[:-1] + f', "deep": {nested(64)}}}'

    response = deliver(client, receiver, body.encode())

    assert response.status_code == 400
    assert refusal(response) == "body nests deeper than 64 levels"
    assert written() == (0, 0)


@pytest.mark.parametrize("levels", [5_000, 100_000])
@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_refuses_deep_nesting_before_the_recursive_parser(client, receiver, levels):
    body = ('{"repository": ' + '{"a": ' * levels + "1" + "}" * levels + "}").encode()

    response = deliver(client, receiver, body)

    assert response.status_code == 400
    # The pre-check's message: json.loads would have been stopped by RecursionError instead.
    assert refusal(response) == "body nests deeper than 64 levels"
    assert written() == (0, 0)


def test_it_does_not_count_brackets_inside_strings(client):
    body = json.dumps(valid("flux"))[:-1] + ', "note": "' + "[{" * 500 + '\\"]"}'

    response = deliver(client, "flux", body.encode())

    assert response.status_code == 202, response.content


def test_it_checks_the_credential_before_saying_what_is_wrong_with_the_body(client):
    body = nested(100).encode()

    unverified = send(client, "flux", body, {"X-Signature": "sha256=" + "0" * 64})
    verified = deliver(client, "flux", body)

    assert (unverified.status_code, refusal(unverified)) == (403, "signature or token not accepted")
    assert (verified.status_code, refusal(verified)) == (400, "body nests deeper than 64 levels")
