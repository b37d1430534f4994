"""A broker outage after a GitHub delivery is stored: the answer is still 202 (the delivery is
evidence), the lost re-harvest is logged and left to the scheduled harvest (harvest_due)."""

from __future__ import annotations

import logging

from celery.app.task import Task
from kombu.exceptions import OperationalError

from evidence.sources.models import Source
from ledger.models import QueuedEntry

from .hooks import GITHUB_SECRET, REPO, deliver, encode, valid


def test_it_answers_202_when_the_broker_is_down_once_the_delivery_is_stored(
    committed_db, broker, settings, monkeypatch, caplog
):
    """Real commits, so on-commit hooks run at once, as in the service; every task send fails."""
    settings.GITHUB_WEBHOOK_SECRET = GITHUB_SECRET
    Source.objects.create(name="acme-github", kind="github", url="http://127.0.0.1:9", config={"repositories": [REPO]})
    sent = []

    def broker_down(task, *args, **kwargs):
        sent.append(task.name)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", broker_down)
    caplog.set_level(logging.WARNING)
    from django.test import Client

    response = deliver(Client(), "github", encode(valid("github")), delivery="outage-1")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "recorded"
    assert QueuedEntry.objects.filter(idempotency_key="github:delivery:outage-1").exists()  # durable, sequenced later
    assert "evidence.tasks.harvest_target" in sent, "the re-harvest should have been tried"
    [warning] = [r for r in caplog.records if "re-harvest" in r.getMessage()]
    assert f"re-harvest of {REPO}" in warning.getMessage() and "harvest_due" in warning.getMessage()
