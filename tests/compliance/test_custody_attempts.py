"""A failed sync is an attempt: shown in custody, never judged, and it changes nothing about the
deployment that kept running."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.compliance.custody import build_custody
from evidence.compliance.models import DeploymentVerdict, Finding
from evidence.readmodels.models import Deployment
from tests.support.custody_story import Story, prod_policy, sha

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def test_it_shows_a_failed_sync_of_an_unreviewed_revision_without_judging_it():
    prod_policy()
    story = Story().clean()
    story.sync_operation(sha("never reviewed"), story.deployed_at + timedelta(hours=3), "Failed")
    story.append()
    failed = Deployment.objects.get(outcome="failed")
    kept = Deployment.objects.exclude(pk=failed.pk).get()
    chain = build_custody(failed)

    assert chain.attempt and chain.verdict == "attempt"
    assert chain.findings == [] and all(link.codes == [] for link in chain.links)
    assert "an attempt, shown here but not judged" in chain.links[0].explanation
    assert any(link.name == "config pull request" for link in chain.links)  # shown all the same
    assert not Finding.objects.filter(deployment=failed).exists()
    assert DeploymentVerdict.objects.get(deployment=failed).verdict == "attempt"
    assert build_custody(kept).verdict == "compliant"
    assert DeploymentVerdict.objects.get(deployment=kept).verdict == "compliant"
