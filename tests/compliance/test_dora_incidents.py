"""Incidents from forge issues: a GitHub issue labelled `incident` (received by /hooks/github/) is
an incident of the environment and application its labels name; unlabelled issues are not."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.test import Client

from evidence.compliance.dora import dora_figures
from evidence.readmodels.projectors import project_pending
from tests.support.dora_world import T0, World, deployment_at, stamp

pytestmark = pytest.mark.django_db
SECRET = "github-hooks-secret-for-dora"
H = timedelta(hours=1)


def deliver_issue(number: int, labels: list[str], opened, closed=None, delivery: str = "") -> None:
    body = {
        "action": "closed" if closed else "opened",
        "issue": {
            "number": number,
            "title": f"Outage {number}",
            "html_url": f"https://github.com/acme/payments/issues/{number}",
            "state": "closed" if closed else "open",
            "labels": [{"name": name} for name in labels],
            "created_at": stamp(opened),
            "closed_at": stamp(closed) if closed else None,
        },
        "repository": {"full_name": "acme/payments"},
    }
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    response = Client().post(
        "/hooks/github/",
        raw,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature,
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_GITHUB_DELIVERY=delivery or f"delivery-{number}-{bool(closed)}",
    )
    assert response.status_code == 202, response.content
    project_pending()


def test_a_labelled_issue_is_an_incident_joined_to_the_deployment_live_at_its_start(settings):
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    w = World()
    w.deploy(w.change(T0), T0 + H)
    w.append()
    deliver_issue(7, ["incident", "application:payments"], T0 + 2 * H)
    deliver_issue(7, ["incident", "application:payments"], T0 + 2 * H, closed=T0 + 5 * H)
    deliver_issue(8, ["bug", "application:payments"], T0 + 2 * H)  # not an incident
    report = dora_figures("prod", since=T0, until=T0 + 2 * 24 * H)
    [incident] = report.incidents
    assert incident.key == "github:acme/payments#7"
    assert (incident.joined_to, incident.joined_by) == (deployment_at(T0 + H).id, "live at start")
    assert incident.resolved_at == T0 + 5 * H  # the latest delivery stands
    assert len(incident.entry_seqs) == 2
    assert report.figures["recovery_time"].value == "3.00"
    assert report.figures["change_fail_rate"].extra["failed"] == 1


def test_the_environment_label_places_the_issue(settings):
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    deliver_issue(9, ["incident", "environment:staging", "application:payments"], T0)
    assert dora_figures("prod", since=T0 - H, until=T0 + H).incidents == []
    assert len(dora_figures("staging", since=T0 - H, until=T0 + H).incidents) == 1
