"""A verdict per deployment (compliant, exception, incomplete evidence) with its reason in one
sentence, in custody, the deployments API, the command, and per environment and period in
/api/v1/findings/summary/ with the compliance rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from evidence.compliance.custody import build_custody
from evidence.compliance.models import Finding
from tests.support.custody_story import T0, Story, accept_risk, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def test_it_calls_a_clean_deployment_compliant():
    prod_policy()
    Story().clean().append()
    chain = build_custody(deployment())

    assert chain.verdict == "compliant"
    assert chain.verdict_reason == "Every link of the chain is satisfied by evidence recorded before the deployment."


def test_it_calls_a_violation_an_exception_even_once_its_risk_is_accepted():
    prod_policy()
    Story().clean(signature=("no_signature", "")).append()
    assert build_custody(deployment()).verdict == "exception"

    accept_risk(Finding.objects.get().key, "Key rotation in progress.", datetime.now(UTC) + timedelta(7))
    chain = build_custody(deployment())

    assert chain.verdict == "exception"
    assert chain.verdict_reason == "1 control(s) violated: image_unsigned (risk accepted for image_unsigned)."


def test_it_calls_a_gap_without_violation_incomplete_evidence():
    prod_policy()
    Story().clean(skip={"app_observed_after"}).append()
    chain = build_custody(deployment())

    assert chain.verdict == "incomplete"
    assert chain.verdict_reason == "No violation, but evidence gaps for acme/payments@main."


def test_it_puts_the_verdict_in_the_deployments_api_and_counts_a_period(auditor):
    prod_policy()
    Story("a").clean().append()
    later = Story("b")
    later.deployed_at = T0 + timedelta(days=1)
    later.clean(signature=("no_signature", "")).append()

    listed = auditor.get("/api/v1/deployments/?environment=prod").json()["results"]
    summary = auditor.get("/api/v1/findings/summary/?environment=prod").json()
    first_day = auditor.get("/api/v1/findings/summary/", {"until": "2026-03-03T00:00:00Z"}).json()

    assert [(d["verdict"], d["verdict_reason"][:10]) for d in listed] == [
        ("exception", "1 control("),
        ("compliant", "Every link"),
    ]
    assert [d["id"] for d in auditor.get("/api/v1/deployments/?verdict=compliant").json()["results"]] == [
        listed[1]["id"]
    ]
    assert summary["environments"]["prod"] == {
        "deployments": 2,
        "compliant": 1,
        "exception": 1,
        "incomplete": 0,
        "attempts": 0,
        "compliance_rate": "0.5000",
    }
    assert summary["findings"]["prod"] == {"image_unsigned:open": 1}
    assert first_day["environments"]["prod"]["compliance_rate"] == "1.0000"


def test_it_prints_the_verdict_last_in_the_custody_command():
    prod_policy()
    Story().clean().append()
    out = StringIO()

    call_command("custody", str(deployment().pk), stdout=out)

    assert out.getvalue().splitlines()[-1] == (
        "Verdict: compliant. Every link of the chain is satisfied by evidence recorded before the deployment."
    )
