"""Policies are versioned ledger entries; each deployment is judged by the version in force then.
Risk acceptances are entries too: the finding shows as accepted and never disappears.
(Four eyes, the second engineer's approval of both: tests/compliance/test_four_eyes.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evidence.compliance.custody import build_custody
from evidence.compliance.findings import PolicyError, propose_acceptance, propose_policy
from evidence.compliance.models import Finding, Policy
from ledger.models import Entry
from tests.support.custody_story import POLICY, SECOND, T0, Story, accept_risk, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def test_it_records_every_policy_version_as_a_ledger_entry():
    first = prod_policy()
    second = prod_policy({**POLICY, "min_approvals": 2}, at=T0 + timedelta(days=1))

    entries = Entry.objects.filter(kind="policy.version.proposed").order_by("seq")
    assert [e.seq for e in entries] == [first, second]
    assert [e.data["version"] for e in entries] == [1, 2]
    assert list(Policy.objects.order_by("version").values_list("min_approvals", "entry_seq")) == [
        (1, first),
        (2, second),
    ]


def test_it_adds_no_version_when_the_rules_are_unchanged():
    prod_policy()
    again = propose_policy("prod", "engineer", POLICY)

    assert again.created is False
    assert Entry.objects.filter(kind="policy.version.proposed").count() == 1


def test_it_judges_a_deployment_by_the_policy_in_force_when_it_happened():
    prod_policy()  # one approval, from 30 days before T0
    story = Story().clean()
    story.append()
    prod_policy({**POLICY, "min_approvals": 2}, at=T0 + timedelta(days=5))  # stricter, but later

    chain = build_custody(deployment())
    assert chain.findings == []
    assert chain.policy["version"] == 1

    later = Story("b")
    later.deployed_at = T0 + timedelta(days=6)  # the same kind of change, after the stricter version
    later.clean().append()
    chain = build_custody(deployment())
    assert chain.deployed_at == later.deployed_at
    assert chain.policy["version"] == 2
    assert {f.code for f in chain.findings} == {"insufficient_approvals"}


def test_it_refuses_a_policy_with_bad_settings_and_writes_nothing():
    with pytest.raises(PolicyError, match="min_approvals: expected a whole number"):
        propose_policy("prod", "engineer", {"min_approvals": "two"})
    with pytest.raises(PolicyError, match=r"protection\.allow_everything: unknown setting"):
        propose_policy("prod", "engineer", {"protection": {"allow_everything": True}})

    assert not Entry.objects.filter(kind="policy.version.proposed").exists()


def test_it_shows_an_accepted_finding_as_accepted_and_keeps_it():
    prod_policy()
    Story().clean(signature=("no_signature", "")).append()
    finding = Finding.objects.get()
    until = datetime.now(UTC) + timedelta(days=30)

    proposal = accept_risk(finding.key, "Signing key rotation in progress; ticket SEC-12.", until)

    kept = Finding.objects.get()
    assert kept.key == finding.key
    assert kept.status_at(datetime.now(UTC)) == "accepted"
    assert kept.acceptance_seq == proposal
    assert (kept.accepted_by, kept.acceptance_approved_by) == ("engineer", SECOND)
    assert kept.status_at(until + timedelta(seconds=1)) == "open"  # expires, and is open again
    assert Entry.objects.get(seq=proposal).data["reason"] == "Signing key rotation in progress; ticket SEC-12."


def test_it_refuses_an_acceptance_without_a_reason_or_in_the_past():
    prod_policy()
    Story().clean(signature=("no_signature", "")).append()
    key = Finding.objects.get().key

    with pytest.raises(PolicyError, match="reason"):
        propose_acceptance(key, "engineer", "ok", datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(PolicyError, match="until: must be in the future"):
        propose_acceptance(key, "engineer", "Accepted for the quarter.", datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(PolicyError, match="no finding"):
        propose_acceptance("nope", "engineer", "Accepted for the quarter.", datetime.now(UTC) + timedelta(days=1))
    assert not Entry.objects.filter(kind="finding.acceptance.proposed").exists()
