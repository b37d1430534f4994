"""Four eyes on exceptions: a risk acceptance or a policy version takes effect only when a second
engineer approves what the first proposed; nobody who authored, approved or merged the change may
do either; both steps are ledger entries and the pack names both people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evidence.compliance.custody import build_custody
from evidence.compliance.findings import (
    PolicyError,
    approve_acceptance,
    approve_policy,
    propose_acceptance,
    propose_policy,
)
from evidence.compliance.models import Finding, Policy, RiskAcceptance
from evidence.readmodels.projectors import project_pending
from exports.pack.providers.custody import pack_findings
from ledger.models import Entry
from tests.support.custody_story import POLICY, SECOND, T0, Story, accept_risk, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]
REASON = "Signing key rotation in progress; ticket SEC-12."


@pytest.fixture
def unsigned() -> Finding:
    """A prod deployment of alice's change (approved by bob, merged by alice) with an unsigned image."""
    prod_policy()
    Story().clean(signature=("no_signature", "")).append()
    return Finding.objects.get()


def until() -> datetime:
    return datetime.now(UTC) + timedelta(days=30)


def test_it_leaves_the_finding_open_on_one_engineers_acceptance(unsigned):
    accept_risk(unsigned.key, REASON, until(), second=None)

    finding = Finding.objects.get()
    assert finding.status_at(datetime.now(UTC)) == "open"
    assert finding.accepted_until is None
    assert RiskAcceptance.objects.get().approval_seq is None
    assert build_custody(deployment()).findings[0].status_at(datetime.now(UTC)) == "open"


def test_it_accepts_the_risk_once_a_different_engineer_approves(unsigned):
    proposal = accept_risk(unsigned.key, REASON, until())

    finding = Finding.objects.get()
    approval = Entry.objects.get(kind="finding.acceptance.approved")
    assert finding.status_at(datetime.now(UTC)) == "accepted"
    assert (finding.accepted_by, finding.acceptance_approved_by) == ("engineer", SECOND)
    assert (finding.acceptance_seq, finding.acceptance_approval_seq) == (proposal, approval.seq)
    assert approval.data["proposal_seq"] == proposal
    assert {proposal, approval.seq} <= set(build_custody(deployment()).entry_seqs)


def test_it_refuses_the_proposer_approving_their_own_acceptance(unsigned):
    proposal = accept_risk(unsigned.key, REASON, until(), second=None)

    with pytest.raises(PolicyError, match="a different engineer must approve"):
        approve_acceptance(proposal, "ENGINEER")  # the same person, whatever the case
    assert not Entry.objects.filter(kind="finding.acceptance.approved").exists()


@pytest.mark.parametrize(("person", "role"), [("alice", "author"), ("bob", "approver")])
def test_it_refuses_the_changes_own_people_proposing(unsigned, person, role):
    with pytest.raises(PolicyError, match=f"{person} is the change's {role}"):
        propose_acceptance(unsigned.key, person, REASON, until())
    assert not Entry.objects.filter(kind="finding.acceptance.proposed").exists()


def test_it_refuses_the_changes_merger_approving(unsigned):
    story = Story("merged-by-mallory")
    story.deployed_at = T0 + timedelta(days=2)
    story.clean(signature=("no_signature", ""))
    for record in story.records:  # the same change, merged by someone else
        if record.kind == "github.pull_request" and record.data.get("author") == "alice":
            record.data["merged_by"] = "mallory"
    story.append()
    finding = Finding.objects.get(deployment=deployment())
    proposal = accept_risk(finding.key, REASON, until(), second=None)

    with pytest.raises(PolicyError, match="mallory is the change's merger"):
        approve_acceptance(proposal, "mallory")
    assert RiskAcceptance.objects.get(entry_seq=proposal).approval_seq is None


def test_it_approves_a_proposal_only_once(unsigned):
    proposal = accept_risk(unsigned.key, REASON, until())

    with pytest.raises(PolicyError, match="already approved by erin"):
        approve_acceptance(proposal, "frank")
    assert Entry.objects.filter(kind="finding.acceptance.approved").count() == 1


def test_it_names_both_engineers_in_the_pack(unsigned):
    accept_risk(unsigned.key, REASON, until())

    chain = build_custody(deployment())
    size = Entry.objects.count()
    (line,) = pack_findings([chain], size, datetime.now(UTC))
    assert line.status == "accepted"
    assert f"proposed by engineer and approved by {SECOND}" in line.explanation


def test_it_keeps_a_proposed_policy_out_of_force_until_approved():
    prod_policy()  # version 1, approved
    stricter = propose_policy("prod", "engineer", {**POLICY, "min_approvals": 2}, effective_at=T0 - timedelta(days=1))
    project_pending()
    Story().clean().append()

    assert build_custody(deployment()).policy["version"] == 1  # the proposal is not in force
    assert build_custody(deployment()).findings == []
    with pytest.raises(PolicyError, match="a different engineer must approve"):
        approve_policy(stricter.seq, "engineer")

    approve_policy(stricter.seq, SECOND)
    project_pending()
    chain = build_custody(deployment())
    assert chain.policy["version"] == 2
    assert {f.code for f in chain.findings} == {"insufficient_approvals"}
    assert Policy.objects.get(version=2).approved_by == SECOND


def test_it_refuses_approving_what_was_never_proposed():
    with pytest.raises(PolicyError, match="no proposed risk acceptance at entry #99"):
        approve_acceptance(99, SECOND)
    with pytest.raises(PolicyError, match="no proposed policy version at entry #99"):
        approve_policy(99, SECOND)
    assert not Entry.objects.exists()
