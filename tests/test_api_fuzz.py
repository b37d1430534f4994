"""Schemathesis against the live OpenAPI schema: every operation, random valid and invalid input,
as an engineer with a knox API token (who may call every operation). No case may get a server error."""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth.models import Group, User
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from config.wsgi import application
from evidence.core.tokens import issue_api_token

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application
EXAMPLES = 25  # per operation: bounded so ./bin/test stays quick; CI runs the same number


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI app directly, which closes the database connection when a request
    finishes; Django's test client switches that off for the test's transaction, so do the same here."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def engineer_token(db) -> str:
    user = User.objects.create_user("erin-fuzz")
    user.groups.add(Group.objects.get_or_create(name="engineers")[0])
    return issue_api_token(user).token


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.django_db
def test_it_never_answers_a_server_error(case, engineer_token):
    response = case.call(headers={"Authorization": f"Token {engineer_token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}\n{case}"
