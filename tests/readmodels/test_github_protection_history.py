"""Which protection was in force on a branch at a time, backed by snapshots and observations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from evidence.readmodels.models import ProtectionObservation, ProtectionSnapshot
from tests.support.forge_fixtures import REPO, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def in_force(at):
    return ProtectionSnapshot.in_force("github", REPO, "main", at)


def test_it_answers_with_the_snapshot_and_the_observations_either_side(github_source, github_model):
    run(github_source, REPO)
    between_unchanged = timezone.now()
    run(github_source, REPO)
    between_changed = timezone.now()
    github_model.repositories[REPO].protection["main"]["required_approving_review_count"] = 3
    run(github_source, REPO)

    steady = in_force(between_unchanged)
    assert steady.backed
    assert steady.settings["required_approvals"] == 2
    assert steady.seen_before.observed_at <= between_unchanged <= steady.seen_after.observed_at
    assert steady.snapshot.entry_seq in steady.entry_seqs and steady.seen_after.entry_seq in steady.entry_seqs

    changing = in_force(between_changed)
    assert changing.settings["required_approvals"] == 2  # last recorded before that time
    assert not changing.backed  # the next look found other settings: the change lies in this window

    after = in_force(timezone.now())
    assert after.settings["required_approvals"] == 3


def test_it_shows_a_failed_harvest_as_a_gap_not_as_continuity(github_source, github_model):
    run(github_source, REPO)
    first_look = ProtectionObservation.objects.get()
    github_model.tokens.clear()
    failed = run(github_source, REPO)
    during_outage = timezone.now()
    github_model.tokens.add("ghs_forge_test_token_123")
    run(github_source, REPO)

    answer = in_force(during_outage)

    assert failed.status == "failed"
    assert ProtectionObservation.objects.count() == 2  # the failed run looked at nothing
    assert answer.seen_before == first_look
    assert answer.unobserved_for == answer.seen_after.observed_at - first_look.observed_at
    assert answer.seen_after.observed_at > during_outage


def test_it_knows_nothing_before_the_first_look(github_source):
    run(github_source, REPO)

    answer = in_force(timezone.now() - timedelta(days=1))

    assert answer.snapshot is None and answer.settings == "unknown" and not answer.backed
