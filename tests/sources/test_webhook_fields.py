"""Every receiver validates the fields it uses: a wrong type or a missing field is a 400 that names it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.models import Entry

from .hooks import deliver, encode, refusal, valid, written

pytestmark = pytest.mark.usefixtures("hook_sources")

MUST_BE_RFC3339 = "must be an RFC 3339 time such as 2026-03-01T12:00:00Z"


def changed(receiver: str, path: tuple, value):
    """The valid delivery of receiver with the field at path set to value (or removed: ...)."""
    payload = valid(receiver)
    *parents, last = path
    target = payload
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return payload


@pytest.mark.parametrize(
    ("receiver", "path", "value", "detail"),
    [
        ("github", ("pull_request", "number"), "3", "pull_request.number: must be an integer"),
        ("github", ("pull_request", "number"), 3.0, "pull_request.number: must be an integer"),
        ("github", ("pull_request",), [3], "pull_request: must be an object"),
        ("github", ("repository",), "acme/payments", "repository: must be an object"),
        ("github", ("repository", "full_name"), 42, "repository.full_name: must be a string"),
        (
            "github",
            ("repository", "full_name"),
            "acme/\x00payments",
            "repository.full_name: must not contain control characters",
        ),
        ("github", ("action",), ["submitted"], "action: must be a string"),
        ("github", ("ref",), {"name": "main"}, "ref: must be a string"),
        ("gitlab", ("project",), [], "project: must be an object"),
        ("gitlab", ("project", "path_with_namespace"), None, None),
        ("gitlab", ("object_attributes",), "merge", "object_attributes: must be an object"),
        ("gitlab", ("object_attributes", "iid"), True, "object_attributes.iid: must be an integer"),
        ("gitlab", ("object_attributes", "action"), ["merge"], "object_attributes.action: must be a string"),
        ("argocd", ("app", "status"), [], "app.status: must be an object"),
        ("argocd", ("app", "metadata", "name"), ["payments"], "app.metadata.name: must be a string"),
        ("argocd", ("app", "metadata", "name"), "", "app.metadata.name: must not be empty"),
        (
            "argocd",
            ("app", "metadata", "name"),
            ...,
            "app.metadata.name: is required (see docs/argocd-notifications.md)",
        ),
        ("argocd", ("app", "status", "history", 0, "id"), "1", "app.status.history[0].id: must be an integer"),
        ("argocd", ("app", "status", "summary", "images"), "nginx", "app.status.summary.images: must be a list"),
        ("flux", ("involvedObject",), ..., "involvedObject: is required"),
        ("flux", ("involvedObject", "name"), "", "involvedObject.name: must not be empty"),
        ("flux", ("involvedObject", "kind"), 7, "involvedObject.kind: must be a string"),
        ("flux", ("metadata",), {"cluster": 1}, "metadata.cluster: must be a string"),
        ("flux", ("reason",), ["ReconciliationSucceeded"], "reason: must be a string"),
    ],
)
def test_it_names_the_field_that_has_the_wrong_type(client, receiver, path, value, detail):
    response = deliver(client, receiver, encode(changed(receiver, path, value)))

    if detail is None:  # a field we use that may be absent: the delivery is taken
        assert response.status_code == 202, response.content
        return
    assert response.status_code == 400, response.content
    assert refusal(response) == detail
    assert written() == (0, 0)


def test_it_names_up_to_three_fields_at_once(client):
    payload = changed("github", ("action",), 1)
    payload["ref"] = 2
    payload["pull_request"]["number"] = "3"
    payload["repository"]["full_name"] = []

    response = deliver(client, "github", encode(payload))

    assert refusal(response) == (
        "action: must be a string; ref: must be a string; repository.full_name: must be a string (and 1 more)"
    )


@pytest.mark.parametrize(
    "timestamp", ["yesterday", "2026-03-01", "2026-03-01T12:00:00", "2026-13-01T12:00:00Z", "2026-03-01 12:00:00Z"]
)
def test_it_refuses_an_event_time_that_is_not_rfc3339(client, timestamp):
    response = deliver(client, "flux", encode(changed("flux", ("timestamp",), timestamp)))

    assert response.status_code == 400
    assert refusal(response) == f"timestamp: {MUST_BE_RFC3339}"
    assert written() == (0, 0)


def test_it_refuses_a_time_given_as_a_number(client):
    response = deliver(client, "flux", encode(changed("flux", ("timestamp",), 1772359320)))

    assert refusal(response) == "timestamp: must be a string"


def test_it_refuses_an_argocd_history_time_that_is_not_rfc3339(client):
    payload = changed("argocd", ("app", "status", "history", 0, "deployedAt"), "1 March 2026")

    response = deliver(client, "argocd", encode(payload))

    assert response.status_code == 400
    assert refusal(response) == f"app.status.history[0].deployedAt: {MUST_BE_RFC3339}"
    assert written() == (0, 0)


def test_it_reads_an_rfc3339_time_with_nanoseconds_and_an_offset(client):
    payload = changed("flux", ("timestamp",), "2026-03-01T12:00:00.123456789+02:00")

    response = deliver(client, "flux", encode(payload))

    assert response.status_code == 202, response.content
    entry = Entry.objects.get(kind="flux.event")
    assert entry.occurred_at == datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert entry.data["event"]["timestamp"] == "2026-03-01T12:00:00.123456789+02:00"  # kept as sent


def test_it_refuses_a_body_that_is_not_an_object(client):
    for receiver in ("github", "gitlab", "argocd", "flux"):
        response = deliver(client, receiver, b'["a", "list"]')

        assert (response.status_code, refusal(response)) == (400, "body must be a JSON object")
    assert written() == (0, 0)
