"""POST /hooks/incident/: a signed incident report becomes an `incident.report` entry; anything
unsigned, wrongly signed or malformed is refused with a reason and writes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from ledger.models import Entry, QueuedEntry
from tests.support.dora_world import INCIDENT_SECRET, signed

pytestmark = pytest.mark.django_db
INCIDENT = {
    "id": "INC-42",
    "environment": "prod",
    "application": "payments",
    "started_at": "2026-03-02T10:00:00Z",
    "resolved_at": "2026-03-02T10:45:00Z",
    "commit": "a" * 40,
    "title": "Refunds fail",
}


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.INCIDENT_WEBHOOK_SECRET = INCIDENT_SECRET


def post(body: bytes, signature: str | None):
    headers = {"HTTP_X_SIGNATURE": signature} if signature is not None else {}
    return Client().post("/hooks/incident/", body, content_type="application/json", **headers)


def nothing_written() -> bool:
    return not Entry.objects.exists() and not QueuedEntry.objects.exists()


def test_it_records_a_signed_incident_once():
    body, signature = signed(INCIDENT)
    response = post(body, signature)
    assert response.status_code == 202, response.content
    entry = Entry.objects.get(seq=response.json()["seq"])
    assert (entry.kind, entry.subject) == ("incident.report", "incident:INC-42")
    assert entry.data["incident"]["started_at"] == "2026-03-02T10:00:00Z"
    assert entry.data["verification"]["secret_env"] == "INCIDENT_WEBHOOK_SECRET"
    assert INCIDENT_SECRET not in json.dumps(entry.envelope)
    assert post(body, signature).status_code == 200  # the same delivery again adds nothing


@pytest.mark.parametrize(
    "signature, status",
    [(None, 401), ("md5=abc", 401), ("sha256=" + "0" * 64, 403)],
)
def test_a_missing_or_wrong_signature_is_refused(signature, status):
    body, _ = signed(INCIDENT)
    response = post(body, signature)
    assert response.status_code == status and response.json()["detail"]
    assert nothing_written()


def test_without_a_configured_secret_nothing_is_accepted(settings):
    settings.INCIDENT_WEBHOOK_SECRET = ""
    body, signature = signed(INCIDENT)
    assert post(body, signature).status_code == 403
    assert nothing_written()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"started_at": "yesterday"}, "started_at"),
        ({"environment": None}, "environment"),
        ({"resolved_at": "2026-03-02T09:00:00Z"}, "resolved_at"),
    ],
)
def test_a_malformed_report_is_a_400_naming_the_field(change, field):
    body, signature = signed({k: v for k, v in {**INCIDENT, **change}.items() if v is not None})
    response = post(body, signature)
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert nothing_written()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@given(
    changes=st.dictionaries(st.sampled_from([*INCIDENT, "extra"]), json_values, max_size=4),
    dropped=st.sets(st.sampled_from(list(INCIDENT)), max_size=3),
)
@examples(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_signed_bodies_are_recorded_or_refused_never_a_server_error(changes, dropped):
    body = {k: v for k, v in {**INCIDENT, **changes}.items() if k not in dropped}
    raw, signature = signed(body)
    response = post(raw, signature)
    assert response.status_code in (200, 202, 400), (body, response.status_code, response.content)
    if response.status_code == 400:
        assert set(response.json()) == {"detail"}
