"""manage.py custody <deployment id>: the chain as a readable table; a bad id is one clear line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from .custody_story import Story, deployment, prod_policy

pytestmark = pytest.mark.django_db


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
