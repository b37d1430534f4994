"""Health, readiness, metrics, request ids and structured logs: what an operator's tooling reads."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import timezone

from config.errors import SecretsHiddenFilter
from config.logs import JsonFormatter, RequestIdFilter
from config.request_id import REQUEST_ID
from evidence.core.metrics import count_delivery
from evidence.sources.models import HarvestRun, Source
from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint
from ledger.keys import create_signing_key
from ledger.models import QueuedEntry
from tests.ledger.helpers import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(signing_key):
    create_signing_key("test.ledger/log")


def test_it_answers_healthz_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_it_is_ready_with_a_key_and_every_entry_signed(client, key):
    append_entries(records(3))
    sign_checkpoint()
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert all(check["ok"] for check in response.json()["checks"].values())


def test_it_is_not_ready_without_a_readable_signing_key(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "no key at" in response.json()["checks"]["signing_key"]["detail"]


def test_it_is_not_ready_when_entries_wait_unsigned_with_no_checkpoint(client, key):
    append_entries(records(2))
    check = client.get("/readyz").json()["checks"]["checkpoint_age"]
    assert check == {"ok": False, "detail": "2 entries and no signed checkpoint"}


def test_it_is_not_ready_when_the_last_checkpoint_is_older_than_twice_the_interval(client, key, settings):
    settings.LEDGER_CHECKPOINT_INTERVAL = 60
    append_entries(records(2))
    sign_checkpoint()
    append_entries(records(1, start=2))
    assert client.get("/readyz").status_code == 200  # young enough
    with time_machine.travel(timezone.now() + timedelta(seconds=121), tick=False):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "over 120 s" in response.json()["checks"]["checkpoint_age"]["detail"]


def test_it_is_not_ready_when_the_sequencer_backlog_is_over_the_limit(client, key, settings):
    settings.READY_MAX_SEQUENCER_BACKLOG = 1
    for i in range(2):
        QueuedEntry.objects.create(
            idempotency_key=f"stuck:{i}", kind="test.fact", source="t", subject="s",
            observed_at=timezone.now(), payload=b"{}", queued_at=timezone.now(),
        )  # fmt: skip
    check = client.get("/readyz").json()["checks"]["sequencer_backlog"]
    assert check == {"ok": False, "detail": "2 entries wait for the sequencer (limit 1)"}


def test_it_exports_ledger_harvest_and_webhook_metrics(client, key):
    append_entries(records(4))
    sign_checkpoint()
    source = Source.objects.create(name="acme-github", kind="github")
    now = timezone.now()
    HarvestRun.objects.create(source=source, target="acme/a", started_at=now, finished_at=now, status="succeeded")
    HarvestRun.objects.create(source=source, target="acme/b", started_at=now, status="failed")
    count_delivery("github", 202)
    count_delivery("github", 401)
    text = client.get("/metrics").content.decode()
    assert "ledger_entries 4.0" in text
    assert "ledger_checkpoint_size 4.0" in text
    assert "ledger_sequencer_backlog 0.0" in text
    assert 'evidence_harvest_runs{source="acme-github",status="failed"} 1.0' in text
    assert 'evidence_harvest_last_success_timestamp_seconds{source="acme-github"}' in text
    assert 'evidence_webhook_deliveries_total{outcome="401",receiver="github"}' in text


def test_it_wants_the_metrics_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "a-scrape-token-of-32-characters!"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer a-scrape-token-of-32-characters!").status_code == 200


def test_it_returns_a_request_id_and_keeps_a_plain_one_from_the_caller(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="trace-42.a")["X-Request-ID"] == "trace-42.a"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="x\ny<script>")["X-Request-ID"] != "x\ny<script>"


def test_it_writes_json_log_lines_with_the_request_id():
    record = logging.LogRecord("evidence", logging.WARNING, __file__, 1, "harvest %s failed", ("acme",), None)
    token = REQUEST_ID.set("req-7")
    try:
        RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "harvest acme failed" and line["request_id"] == "req-7" and line["level"] == "WARNING"


def test_it_hides_urls_with_passwords_and_authorization_headers_from_error_reports(settings):
    settings.CELERY_BROKER_URL = "redis://:hunter2-password@cache:6379/0"
    reporter = SecretsHiddenFilter()
    assert "hunter2" not in str(reporter.get_safe_settings()["CELERY_BROKER_URL"])
    request = RequestFactory().post("/hooks/flux/", HTTP_AUTHORIZATION="Bearer flux-token-value")
    assert "flux-token-value" not in str(reporter.get_safe_request_meta(request))
