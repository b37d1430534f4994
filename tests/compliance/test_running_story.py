"""The demo's GitOps story: sandboxes harvested for real, and a second run that adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devkit.demo.story import DIGEST, REVIEWED, WEB_DIGEST, run_gitops_story
from evidence.compliance.running import running_at
from evidence.readmodels.models import Deployment
from ledger.models import Entry

pytestmark = pytest.mark.usefixtures("projected")


def test_it_tells_what_runs_in_prod_and_adds_nothing_when_told_again(db):
    lines: list[str] = []
    run_gitops_story(say=lines.append)
    running = {a.application: a for a in running_at("prod", datetime.now(UTC)).applications}
    assert (running["payments"].revision, running["payments"].outcome) == (REVIEWED, "rolled_back")
    assert running["payments"].digests == [DIGEST]
    assert running["web"].digests == [WEB_DIGEST]
    assert Deployment.objects.get(revision="feedface" * 5).outcome == "failed"
    evidence = Entry.objects.exclude(kind="harvest.run").count()
    run_gitops_story(say=lines.append)
    assert Entry.objects.exclude(kind="harvest.run").count() == evidence
    assert any(line.startswith("running in prod now: payments") for line in lines)
