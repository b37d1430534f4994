"""Evidence must predate what it vouches for, and "not looked" is never "looked and found nothing":
a signature recorded after the deployment, and an image no registry harvest ever looked at."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.compliance.custody import build_custody
from tests.support.custody_story import T0, Story, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def test_it_does_not_let_a_signature_recorded_after_the_deployment_vouch_for_it():
    prod_policy()
    story = Story()
    story.clean(signature_at=story.deployed_at + timedelta(hours=3)).append()
    chain = build_custody(deployment())
    signature = next(link for link in chain.links if link.name == "signature")

    assert (signature.status, signature.reason, signature.codes) == (
        "not_evidenced",
        "recorded_late",
        ["evidence_recorded_late"],
    )
    assert "after the deployment started" in signature.explanation
    assert [f.code for f in chain.findings] == ["evidence_recorded_late"]
    assert chain.verdict == "incomplete"


def test_it_accepts_a_signature_recorded_before_the_deployment_started():
    prod_policy()
    story = Story()
    story.clean(signature_at=story.deployed_at - timedelta(minutes=1)).append()
    chain = build_custody(deployment())

    assert next(link for link in chain.links if link.name == "signature").status == "satisfied"
    assert chain.verdict == "compliant"


def test_it_calls_an_image_no_registry_harvest_looked_at_an_evidence_gap_not_unsigned():
    prod_policy()
    Story().clean(skip={"artifact", "signature", "provenance"}).append()
    chain = build_custody(deployment())
    by_name = {link.name: link for link in chain.links if link.path == "image"}

    assert [f.code for f in chain.findings] == ["evidence_gap"]
    assert by_name["signature"].status == by_name["provenance"].status == "not_evidenced"
    assert by_name["signature"].reason == "not_looked"
    assert "No registry harvest ever looked at this digest" in chain.findings[0].explanation
    assert "pull request" not in by_name  # not traced, so no "direct push" either
    assert chain.verdict == "incomplete"


def test_it_calls_an_image_the_registry_read_without_a_signature_unsigned():
    prod_policy()
    Story().clean(skip={"signature"}).append()  # the registry harvest saw the digest (oci.artifact)

    assert [f.code for f in build_custody(deployment()).findings] == ["image_unsigned"]


def test_it_keeps_the_deployment_time_as_the_bar_for_provenance_too():
    prod_policy()
    story = Story().clean(skip={"provenance"})
    story.provenance(story.image, story.merge, at=T0 + timedelta(days=2))
    story.append()
    chain = build_custody(deployment())
    provenance = next(link for link in chain.links if link.name == "provenance")

    assert (provenance.status, provenance.reason) == ("not_evidenced", "recorded_late")
    assert [f.code for f in chain.findings] == ["evidence_recorded_late"]
