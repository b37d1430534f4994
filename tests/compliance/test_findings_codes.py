"""Every finding code, each from a history that breaks exactly one fact of a clean change.

The clean story (tests/support/custody_story.py) gives no finding; each case below changes one
fact and must give exactly the codes listed (the right answer for that history), with the
entries behind each finding among those cited.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.compliance.custody import build_custody
from evidence.compliance.findings.codes import CODES, REQUIREMENTS
from evidence.compliance.models import Finding
from ledger.models import Entry
from tests.support.custody_story import APP, PROTECTED, T0, Story, deployment, digest, prod_policy, sha

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def codes_of(story: Story) -> list[str]:
    story.append()
    return sorted({f.code for f in build_custody(deployment()).findings})


def test_it_finds_nothing_wrong_with_a_clean_change():
    prod_policy()
    story = Story().clean()
    story.append()
    chain = build_custody(deployment())

    assert chain.findings == []
    assert {link.status for link in chain.links} == {"satisfied"}
    assert Finding.objects.count() == 0


CASES = {
    "no_pull_request": {"provenance_commit": sha("pushed straight to main")},
    "self_approved": {"app_reviews": [("alice", "HEAD")]},
    "stale_approval": {"app_reviews": [("bob", sha("older head")), ("erin", "HEAD")]},
    "protection_off": {"app_settings": {**PROTECTED, "protected": False, "required_approvals": 0}},
    "protection_weaker_than_policy": {"app_settings": {**PROTECTED, "dismiss_stale_reviews": False}},
    "image_unsigned": {"signature": ("no_signature", "")},
    "signature_invalid": {"signature": ("invalid_signature", "cosign:acme-release")},
    "signer_untrusted": {"signature": ("verified", "cosign:someone-else")},
    "no_provenance": {"skip": {"provenance"}},
    "builder_untrusted": {"builder": "https://ci.example.net/unknown-runner"},
    "drift": {"running": [digest("a-image"), digest("hotfix built on a laptop")]},
    "evidence_gap": {"skip": {"app_observed_after"}},
    # the registry first recorded the signature a day after the deployment started
    "evidence_recorded_late": {"signature_at": T0 + timedelta(days=1)},
}
# What each broken fact must give: the code it is about, and what follows from it.
EXPECTED = {
    "no_pull_request": ["no_pull_request"],
    "self_approved": ["protection_bypassed", "self_approved"],  # protection asked for 1; it merged anyway
    "stale_approval": ["stale_approval"],  # erin approved the merged head, so approvals suffice
    "protection_off": ["protection_off"],
    "protection_weaker_than_policy": ["protection_weaker_than_policy"],
    "image_unsigned": ["image_unsigned"],
    "signature_invalid": ["signature_invalid"],
    "signer_untrusted": ["signer_untrusted"],
    # No provenance: the image is not traced to a commit; that is not evidence of a direct push.
    "no_provenance": ["no_provenance"],
    "builder_untrusted": ["builder_untrusted"],
    "drift": ["drift"],
    "evidence_gap": ["evidence_gap"],
    "evidence_recorded_late": ["evidence_recorded_late"],  # a gap in time, never a pass nor a violation
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_it_gives_the_known_findings_of_a_broken_history(case):
    prod_policy()
    story = Story()
    broken = dict(CASES[case])
    if "app_reviews" in broken:
        broken["app_reviews"] = [(r, story.head if c == "HEAD" else c) for r, c in broken["app_reviews"]]

    story.clean(**broken)
    if case == "no_pull_request":  # the commit is on main's first-parent history, pushed there directly
        story.history(APP, [(sha("pushed straight to main"), [story.merge], "mallory")], T0, since=story.merge)

    assert codes_of(story) == sorted(EXPECTED[case])


def test_it_finds_too_few_approvals_under_a_stricter_policy():
    prod_policy({**_policy(), "min_approvals": 2})

    assert codes_of(Story().clean()) == ["insufficient_approvals"]


def test_it_finds_a_bypass_recorded_by_a_rule_suite():
    prod_policy()
    story = Story().clean()
    story.bypass(APP, story.merge, "octo-admin", T0)

    assert codes_of(story) == ["protection_bypassed"]
    finding = build_custody(deployment()).findings[0]
    assert "octo-admin bypassed the rules" in finding.explanation


def test_it_finds_provenance_naming_another_commit_than_the_deployed_revision():
    prod_policy()
    story = Story().clean(skip={"provenance", "deploy"})
    unreviewed = sha("built from an unreviewed branch")
    story.provenance(story.image, unreviewed)
    story.deploy(story.merge, [story.image], story.deployed_at)  # the app repo's reviewed merge commit
    story.pods([story.image], story.deployed_at + timedelta(minutes=5))
    seqs = story.append()

    # the mismatch, and (true as well) no pull request merged the commit the image was built from, nor is it
    # on main's first-parent history
    assert codes_of(story) == ["no_pull_request", "not_on_protected_branch", "provenance_commit_mismatch"]
    finding = next(f for f in build_custody(deployment()).findings if f.code == "provenance_commit_mismatch")
    kinds = dict(Entry.objects.filter(seq__in=finding.entry_seqs).values_list("kind", "seq"))
    assert {"oci.provenance", "argocd.deployment", "github.pull_request"} <= set(kinds)
    assert set(finding.entry_seqs) <= set(seqs)
    assert finding.severity == "high"
    assert unreviewed[:12] in finding.explanation and story.merge[:12] in finding.explanation


def test_it_finds_provenance_naming_the_head_rather_than_the_merge_commit():
    prod_policy()
    story = Story().clean(provenance_commit=Story().head)

    # the head of a merge-commit pull request: main was never at it, only at the merge
    assert codes_of(story) == ["not_on_protected_branch", "provenance_commit_mismatch"]
    link = next(link for link in build_custody(deployment()).links if link.name == "pull request")
    assert link.status == "violated" and "not the commit it merged as" in link.explanation


def test_it_finds_provenance_naming_two_commits():
    prod_policy()
    story = Story()
    story.provenance(story.image, sha("another build"), n=5)  # an earlier statement about the same digest
    story.clean()

    assert codes_of(story) == ["provenance_commit_mismatch"]


def test_it_finds_provenance_from_another_repository():
    prod_policy()
    story = Story().clean(skip={"provenance"})
    story.provenance(story.image, story.merge, repo="https://github.com/evil/payments-fork")

    assert codes_of(story) == ["provenance_commit_mismatch"]


def test_it_finds_a_manual_sync():
    prod_policy()
    story = Story().clean(skip={"deploy"})
    started, finished = story.deployed_at, story.deployed_at + timedelta(minutes=1)
    item = {
        "id": 1,
        "revision": story.config_merge,
        "deployStartedAt": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deployedAt": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "initiatedBy": {"username": "mallory@example.test"},
    }
    story.add(
        "argocd.deployment",
        "argo-prod",
        "argocd:payments",
        "argocd:history:payments:1",
        {"environment": "prod", "application": "payments", "history": item},
        finished,
    )
    app = {
        "environment": "prod",
        "application": "payments",
        "history_ids": [1],
        "images": [f"registry.local/acme/payments@{story.image}"],
        "health": {"status": "Healthy"},
    }
    story.add("argocd.application", "argo-prod", "argocd:payments", "argocd:app:payments:1", app, finished)

    story.pods([story.image], finished + timedelta(minutes=5))

    assert codes_of(story) == ["manual_sync"]
    link = next(link for link in build_custody(deployment()).links if link.name == "sync")
    assert "mallory@example.test" in link.explanation


def test_every_code_is_given_by_some_test_here():
    covered = {c for codes in EXPECTED.values() for c in codes}
    covered |= {"insufficient_approvals", "protection_bypassed", "provenance_commit_mismatch", "manual_sync"}
    # tests/compliance/test_custody_ancestry.py and test_custody_duties.py give these
    covered |= {"intermediate_commit_deployed", "deployed_before_merge", "not_on_protected_branch"}
    covered |= {"direct_push_under_merge", "author_merged_own_change", "author_deployed_own_change"}
    covered |= {"approver_committed", "emergency_change"}

    assert covered == set(CODES)


def test_it_cites_entries_and_controls_for_each_finding():
    prod_policy()
    story = Story().clean(signature=("no_signature", ""))
    seqs = story.append()
    finding = Finding.objects.get()

    assert finding.code == "image_unsigned"
    assert finding.controls == list(CODES["image_unsigned"].controls)
    assert "PCI DSS v4.0 6.5" not in finding.controls  # a section, not a requirement
    signature_seq = seqs[[r.kind for r in Story().clean(signature=("no_signature", "")).records].index("oci.signature")]
    assert signature_seq in finding.entry_seqs
    assert set(finding.entry_seqs) <= set(seqs)


def test_it_names_specific_requirements_for_each_code():
    mappings = {code: meta.controls for code, meta in CODES.items()}

    assert all(controls and set(controls) <= set(REQUIREMENTS) for controls in mappings.values())
    assert len(set(mappings.values())) > len(mappings) // 2  # a mapping per code, not one list for all
    assert "ISO/IEC 27001:2022 A.5.3" in mappings["self_approved"]  # segregation of duties
    assert "PCI DSS v4.0 11.5.2" in mappings["drift"]  # change detection
    assert "SOC 2 CC7.2" in mappings["evidence_gap"] and "SOC 2 CC8.1" not in mappings["evidence_gap"]


def _policy():
    from tests.support.custody_story import POLICY

    return dict(POLICY)


def test_it_sees_no_bypass_when_protection_itself_counted_a_stale_approval():
    prod_policy({**_policy(), "protection": {"protected": True}})
    story = Story()
    settings = {**PROTECTED, "dismiss_stale_reviews": False}

    codes = codes_of(story.clean(app_reviews=[("bob", sha("older head"))], app_settings=settings))

    assert codes == ["insufficient_approvals", "stale_approval"]  # the policy's verdict, not the forge's


def test_the_docs_table_gives_each_codes_requirements():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "custody.md").read_text()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0] in CODES:
            rows[cells[0]] = cells
    for code, meta in CODES.items():
        _, severity, soc2, iso, pci, sox = rows[code]
        named = [f"SOC 2 {c}" for c in soc2.split(", ") if c != "-"]
        named += [f"ISO/IEC 27001:2022 {c}" for c in iso.split(", ") if c != "-"]
        named += [f"PCI DSS v4.0 {c}" for c in pci.split(", ") if c != "-"]
        named += ["SOX ITGC change management"] if sox == "yes" else []
        assert (severity, sorted(named)) == (meta.severity, sorted(meta.controls)), code
