"""Property test against the OpenAPI schema: the read endpoints of custody, findings and policies,
called with any query the schema allows (and junk besides), never answer 500 and write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.compliance.models import Finding, Policy, RiskAcceptance
from ledger.models import Entry
from tests.support.custody_story import Story, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]
READ_PATHS = [
    "/api/v1/deployments/{id}/custody/",
    "/api/v1/findings/",
    "/api/v1/findings/summary/",
    "/api/v1/policies/",
]


def _parameters() -> dict[str, list[dict[str, Any]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {path: schema["paths"][path]["get"].get("parameters", []) for path in READ_PATHS}


def _value(parameter: dict[str, Any]) -> st.SearchStrategy[str]:
    spec = parameter.get("schema", {})
    junk = st.text(max_size=30)
    if "enum" in spec:
        return st.one_of(st.sampled_from([str(v) for v in spec["enum"] if v is not None]), junk)
    if spec.get("type") == "integer":
        return st.one_of(st.integers(-(2**63), 2**63).map(str), junk)
    if spec.get("format") == "date-time":
        return st.one_of(st.datetimes().map(lambda d: d.isoformat() + "Z"), junk)
    return junk


@pytest.fixture(scope="module")
def parameters():
    return _parameters()


@pytest.fixture
def history():
    prod_policy()
    Story().clean(signature=("no_signature", ""), skip={"app_observed_after"}).append()
    return deployment().pk


def _state() -> tuple[int, int, int, int, list]:
    return (
        Entry.objects.count(),
        Policy.objects.count(),
        RiskAcceptance.objects.count(),
        Finding.objects.count(),
        list(Finding.objects.order_by("key").values_list("key", "accepted_until")),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_reads_never_fail_and_never_write(data, history, parameters, auditor):
    before = _state()
    path = data.draw(st.sampled_from(READ_PATHS))
    query = {}
    for parameter in parameters[path]:
        if parameter["in"] == "query" and data.draw(st.booleans()):
            query[parameter["name"]] = data.draw(_value(parameter))
    target = data.draw(st.one_of(st.just(history), st.integers(0, 2**31)))

    response = auditor.get(path.replace("{id}", str(target)), query)

    assert response.status_code < 500, (path, query, response.content[:300])
    assert response.status_code in (200, 400, 404)
    assert _state() == before


def test_schema_lists_the_custody_and_findings_paths(parameters):
    names = {p["name"] for p in parameters["/api/v1/findings/"]}

    assert {"environment", "severity", "code", "status", "since", "until", "limit", "offset"} <= names


def test_anonymous_reads_are_refused_whatever_the_query(history):
    client = Client()
    for path in READ_PATHS:
        assert client.get(path.replace("{id}", str(history)), {"severity": "high"}).status_code == 401
