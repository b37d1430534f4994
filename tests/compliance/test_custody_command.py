"""manage.py custody <deployment id>: the chain as a readable table; a bad id is one clear line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.support.custody_story import Story, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def test_it_prints_each_link_with_its_status_and_entries():
    prod_policy()
    Story().clean(signature=("invalid_signature", "cosign:acme-release")).append()
    out = StringIO()

    call_command("custody", str(deployment().pk), stdout=out)

    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0].startswith(f"Deployment {deployment().pk}: payments in prod at 2026-03-02 14:00 UTC")
    assert lines[1].split()[:3] == ["PATH", "LINK", "STATUS"]
    signature = next(line for line in lines if line.split()[:2] == ["image", "signature"])
    assert "VIOLATED" in signature
    assert "[high] signature_invalid" in text
    assert (
        "SOC 2 CC7.2; SOC 2 CC8.1; ISO/IEC 27001:2022 A.8.25; PCI DSS v4.0 11.5.2; SOX ITGC change management" in text
    )
    assert lines[-1] == "Verdict: exception. 1 control(s) violated: signature_invalid."


def test_it_prints_json_on_request():
    prod_policy()
    Story().clean().append()
    out = StringIO()

    call_command("custody", str(deployment().pk), "--json", stdout=out)

    body = json.loads(out.getvalue())
    assert body["deployment"] == deployment().pk
    assert body["findings"] == []


@pytest.mark.parametrize(("given", "message"), [("42", "custody: no deployment with id 42"), ("prod/x", "not an id")])
def test_it_says_what_is_wrong_with_the_id(given, message):
    with pytest.raises(CommandError, match=message):
        call_command("custody", given)


def test_it_prints_the_verdicts_of_an_environment_over_a_period():
    from datetime import timedelta

    from tests.support.custody_story import T0

    prod_policy()
    Story("a").clean().append()
    later = Story("b")
    later.deployed_at = T0 + timedelta(days=1)
    later.clean(signature=("no_signature", "")).append()
    out = StringIO()

    call_command("custody", "--environment=prod", "--since=2026-03-01", stdout=out)
    call_command("custody", "--environment=prod", "--until=2026-03-03T00:00Z", "--json", stdout=out)

    text = out.getvalue()
    assert text.startswith(
        "prod from 2026-03-01 until now: 2 deployment(s) judged: 1 compliant, 1 exception, 0 incomplete evidence; "
        "0 attempt(s) not judged. Compliance rate: 0.5000.\n"
    )
    assert json.loads(text.split("\n", 1)[1])["prod"]["compliance_rate"] == "1.0000"


def test_it_asks_for_a_deployment_or_an_environment():
    with pytest.raises(CommandError, match="give a deployment id, or --environment"):
        call_command("custody")
