"""No float reaches ledger data: NaN and Infinity are refused (they are not JSON), and numbers the
ledger cannot hold exactly stay the decimal text the sender wrote."""

from __future__ import annotations

import json

import pytest

from ledger.models import Entry

from .hooks import RECEIVERS, deliver, encode, refusal, valid, written

pytestmark = pytest.mark.usefixtures("hook_sources")


def floats_in(value) -> list:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in floats_in(v)]
    if isinstance(value, list):
        return [f for v in value for f in floats_in(v)]
    return []


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_refuses_nan_and_infinity(client, receiver, constant):
    body = json.dumps(valid(receiver))[:-1] + f', "ratio": {constant}}}'

    response = deliver(client, receiver, body.encode())

    assert response.status_code == 400
    assert refusal(response) == f"body is not JSON: {constant} is not a JSON number"
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("receiver", "kind", "field"), [("argocd", "argocd.webhook", "delivery"), ("flux", "flux.event", "event")]
)
def test_it_keeps_numbers_it_cannot_hold_exactly_as_their_text(client, receiver, kind, field):
    body = json.dumps(valid(receiver))[:-1] + ', "numbers": [1e308, 1e400, -0.5, 2.50, 12345678901234567890, 42]}'

    response = deliver(client, receiver, body.encode())

    assert response.status_code == 202, response.content
    entry = Entry.objects.get(kind=kind)
    assert entry.data[field]["numbers"] == ["1e308", "1e400", "-0.5", "2.50", "12345678901234567890", 42]
    assert floats_in(entry.envelope) == []


def test_it_keeps_a_github_body_with_huge_numbers_as_sent(client):
    body = json.dumps(valid("github"))[:-1].encode() + b', "score": 1e308, "big": 1e400}'

    response = deliver(client, "github", body)

    assert response.status_code == 202, response.content
    entry = Entry.objects.get(kind="github.webhook")
    assert entry.data["body"].encode() == body
    assert floats_in(entry.envelope) == []


def test_it_refuses_a_number_where_a_string_belongs(client):
    payload = valid("argocd")
    payload["app"]["metadata"]["name"] = 1e308

    response = deliver(client, "argocd", encode(payload))

    assert (response.status_code, refusal(response)) == (400, "app.metadata.name: must be a string")
