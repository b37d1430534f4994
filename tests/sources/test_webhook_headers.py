"""Headers are untrusted input too: a credential that is not printable ASCII is a 401 (never a
500 from comparing it), a recorded header must be short printable ASCII, and any other method
than POST is a 405, all in the one refusal shape."""

from __future__ import annotations

import pytest

from .hooks import RECEIVERS, credential_for, deliver, delivery_headers, encode, refusal, send, valid, written

pytestmark = pytest.mark.usefixtures("hook_sources")

NON_ASCII = {
    "github": ("X-Hub-Signature-256", "sha256=" + "é" * 64),
    "gitlab": ("X-Gitlab-Token", "gitlab-hooks-tökén"),
    "argocd": ("Authorization", "Bearer argocd-hooks-tökén"),
    "flux": ("X-Signature", "sha256=ü" + "0" * 63),
}


def test_it_refuses_a_non_ascii_signature_on_flux_with_401(client):
    body = encode(valid("flux"))

    response = send(client, "flux", body, {"X-Signature": "sha256=\u00e9\u00e8"})

    assert response.status_code == 401
    assert refusal(response) == "X-Signature must be printable ASCII"
    assert written() == (0, 0)


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_refuses_a_credential_that_is_not_printable_ascii(client, receiver):
    name, value = NON_ASCII[receiver]
    body = encode(valid(receiver))

    for credential in (value, value.replace("é", "\x00").replace("ö", "\n").replace("ü", "\x7f")):
        response = send(client, receiver, body, {**delivery_headers(receiver), name: credential})

        assert response.status_code == 401
        assert refusal(response) == f"{name} must be printable ASCII"
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("receiver", "name"),
    [
        ("github", "X-GitHub-Delivery"),
        ("github", "X-GitHub-Event"),
        ("gitlab", "Idempotency-Key"),
        ("gitlab", "X-Gitlab-Event"),
    ],
)
@pytest.mark.parametrize("value", ["d\u00e9livery", "a\x00b", "x" * 201])
def test_it_refuses_a_recorded_header_that_is_not_short_printable_ascii(client, receiver, name, value):
    body = encode(valid(receiver))
    headers = {**delivery_headers(receiver), **credential_for(receiver, body), name: value}

    response = send(client, receiver, body, headers)

    assert response.status_code == 400
    assert refusal(response) == f"{name} must be printable ASCII of at most 200 characters"
    assert written() == (0, 0)


@pytest.mark.parametrize("receiver", ["argocd", "flux"])
@pytest.mark.parametrize("name", ["argo\x00prod", "../prod", "pr\u00f6d"])
def test_it_refuses_a_source_parameter_that_names_no_source(client, receiver, name):
    body = encode(valid(receiver))

    response = deliver(client, receiver, body, query=f"?source={name}")

    assert response.status_code == 400
    assert refusal(response) == "?source= must name a source (letters, digits, - and _)"
    assert written() == (0, 0)


@pytest.mark.parametrize("method", ["get", "put", "delete", "head", "options"])
@pytest.mark.parametrize("receiver", RECEIVERS)
def test_it_answers_other_methods_than_post_with_405(client, receiver, method):
    response = getattr(client, method)(f"/hooks/{receiver}/")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    if method != "head":
        assert refusal(response) == "webhook deliveries are POSTed"
