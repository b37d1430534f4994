"""Engineers propose policy versions and risk acceptances in the admin and approve each other's: each
step is a ledger entry; auditors can do neither and are not offered the action; bad input is refused
with a message and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evidence.compliance.models import Finding, Policy, RiskAcceptance
from ledger.models import Entry

ADD_POLICY = "/admin/compliance/policy/add/"
ADD_ACCEPTANCE = "/admin/compliance/riskacceptance/add/"
POLICY = {
    "environment": "prod",
    "min_approvals": "2",
    "require_signature": "on",
    "trusted_signers": "release-key\n",
    "require_provenance": "on",
    "trusted_builders": "https://builder.test/*",
    "protection": '{"dismiss_stale_reviews": true}',
}


def test_it_records_a_policy_version_as_a_ledger_entry(client, world, engineer):
    client.force_login(engineer.user)
    answer = client.post(ADD_POLICY, POLICY)
    assert answer.status_code == 302
    entry = Entry.objects.get(kind="policy.version.proposed")
    assert entry.data["recorded_by"] == engineer.user.username and entry.data["rules"]["min_approvals"] == 2
    policy = Policy.objects.get()
    assert (policy.version, policy.entry_seq, policy.trusted_signers) == (1, entry.seq, ["release-key"])


def test_it_refuses_bad_policy_input_and_writes_nothing(client, world, engineer):
    client.force_login(engineer.user)
    page = client.post(ADD_POLICY, POLICY | {"protection": '{"fly": true}'})
    assert page.status_code == 200 and "protection.fly: unknown setting" in page.content.decode()
    page = client.post(ADD_POLICY, POLICY | {"protection": "{nope"})
    assert "not JSON" in page.content.decode()
    assert not Entry.objects.filter(kind="policy.version.proposed").exists() and not Policy.objects.exists()


def approve(client, model: str, seq: int):
    changelist = f"/admin/compliance/{model}/"
    return client.post(changelist, {"action": "approve", "_selected_action": [seq]}, follow=True)


def test_it_accepts_a_risk_once_a_second_engineer_approves_and_the_finding_stays_listed(
    client, world, engineer, second_engineer
):
    client.force_login(engineer.user)
    finding = Finding.objects.filter(deployment=world.deployment).first()
    until = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    answer = client.post(
        ADD_ACCEPTANCE, {"finding": finding.key, "reason": "Hotfix during incident 42", "until": until}
    )
    assert answer.status_code == 302
    proposal = RiskAcceptance.objects.get()
    assert proposal.finding_key == finding.key
    assert "accepted until" not in client.get("/admin/compliance/finding/", {"status": "accepted"}).content.decode()
    refused = approve(client, "riskacceptance", proposal.pk)
    assert "a different engineer must approve" in refused.content.decode()
    client.force_login(second_engineer.user)
    approve(client, "riskacceptance", proposal.pk)
    assert RiskAcceptance.objects.get().approved_by == second_engineer.user.username
    listing = client.get("/admin/compliance/finding/", {"status": "accepted"}).content.decode()
    assert finding.code in listing and "accepted until" in listing


def test_it_puts_a_policy_in_force_once_a_second_engineer_approves(client, world, engineer, second_engineer):
    client.force_login(engineer.user)
    client.post(ADD_POLICY, POLICY)
    assert Policy.objects.get().approval_seq is None
    client.force_login(second_engineer.user)
    approve(client, "policy", Policy.objects.get().pk)
    assert Policy.objects.get().approved_by == second_engineer.user.username
    assert Entry.objects.get(kind="policy.version.approved").data["proposed_by"] == engineer.user.username


def test_it_keeps_auditors_from_recording(client, world, auditor):
    client.force_login(auditor.user)
    assert client.post(ADD_POLICY, POLICY).status_code == 403
    finding = Finding.objects.first()
    refused = client.post(ADD_ACCEPTANCE, {"finding": finding.key, "reason": "because I say so", "until": "2099-01-01"})
    assert refused.status_code == 403
    assert not Entry.objects.filter(kind__in=["policy.version.proposed", "finding.acceptance.proposed"]).exists()


def test_it_offers_auditors_no_approve_action_and_refuses_it(client, world, auditor, engineer):
    finding = Finding.objects.filter(deployment=world.deployment).first()
    client.force_login(engineer.user)
    until = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    client.post(ADD_ACCEPTANCE, {"finding": finding.key, "reason": "Hotfix during incident 42", "until": until})
    proposal = RiskAcceptance.objects.get()
    assert 'value="approve"' in client.get("/admin/compliance/riskacceptance/").content.decode()  # engineers: offered
    client.force_login(auditor.user)
    page = client.get("/admin/compliance/riskacceptance/").content.decode()
    assert page.count('value="approve"') == 0
    approve(client, "riskacceptance", proposal.pk)
    assert RiskAcceptance.objects.get().approval_seq is None
    assert not Entry.objects.filter(kind="finding.acceptance.approved").exists()
