"""The plug-in contract for the custody providers (issue 6): findings, count recipes and sections.

DeploymentStandIn is a test double registered only here; the real `deployment`, `environment` and
`repository` providers are not written yet and stay refused (see test_pack_scope).
"""

from __future__ import annotations

import json

from exports import figures
from exports.pack import providers
from exports.pack.build import assemble, build_pack
from exports.pack.content import Finding, PackContent, Section, Table
from exports.pack.evidence import attachment_files
from exports.pack.providers.entries import select_entries
from exports.pack.scope import Scope
from exports.verifier import read_attachments, verify


class DeploymentStandIn:
    def build(self, scope: Scope, checkpoint_size: int) -> PackContent:
        envelopes = select_entries(Scope("entries", kinds=("argocd.deployment", "github.review")), checkpoint_size)
        deployments = sorted(s for s, e in envelopes.items() if e["kind"] == "argocd.deployment")
        finding = Finding(
            code="approval.missing",
            severity="high",
            title="Deployed without an approved pull request",
            explanation="No approval was recorded on the merged head before this deployment.",
            seqs=[deployments[0]],
            controls=["SOC 2 CC8.1", "ISO/IEC 27001:2022 A.8.32"],
        )
        counts = {"deployments": {"kinds": ["argocd.deployment"]}}
        summary = {
            **figures.entry_figures(envelopes),
            **figures.count_figures(envelopes, counts),
            **figures.finding_figures([finding.as_json()]),
        }
        custody = Table(
            title="Chain of custody",
            headers=["Link", "Status", "Entries"],
            rows=[["deployment", "present", str(deployments[0])], ["approval", "missing", ""]],
            widths=[40, 20, 40],
        )
        return PackContent(
            title="Deployment pack",
            scope_description=f"deployment {scope.deployment}",
            period="at the time of the deployment",
            sections=[Section("Chain of custody", tables=[custody])],
            seqs=sorted(envelopes),
            summary=summary,
            summary_rows=[("Deployments", "count.deployments"), ("Findings by severity", "findings.by_severity")],
            findings=[finding],
            counts=counts,
        )


def register(monkeypatch) -> None:
    monkeypatch.setitem(providers.PROVIDERS, "deployment", f"{__name__}:DeploymentStandIn")


def test_it_carries_findings_and_counts_the_verifier_recomputes(evidence, operator_signer, ledger_pub, monkeypatch):
    register(monkeypatch)

    built = build_pack(Scope.from_json({"type": "deployment", "deployment": "payments/1"}), "alice", operator_signer)
    report = verify(built.pdf, ledger_pub.read_text())
    files = read_attachments(built.pdf)

    assert report.ok, report.text()
    assert json.loads(files["findings.json"])[0]["seqs"] == [evidence["deployment"][0]]
    stated = json.loads(files["summary.json"])["figures"]
    assert stated["count.deployments"] == 3
    assert stated["findings.by_severity"] == {"high": 1}
    assert stated["findings.by_code"] == {"approval.missing": 1}


def test_it_rejects_a_finding_changed_after_the_fact(evidence, operator_signer, ledger_pub, monkeypatch):
    register(monkeypatch)
    built = build_pack(Scope.from_json({"type": "deployment", "deployment": "payments/1"}), "alice", operator_signer)
    findings = json.loads(built.files["findings.json"])
    findings[0]["severity"] = "low"  # played down, with the stated figures left as they were
    files = attachment_files(built.evidence, built.summary, findings)

    forged = assemble(
        built.scope,
        built.content,
        built.evidence,
        operator_signer,
        "alice",
        built.evidence.checkpoint.signed_at,
        summary=built.summary,
        files=files,
    )

    assert verify(forged.pdf, ledger_pub.read_text()).failures == [
        "summary figure 'findings.by_severity': the pack states {'high': 1}, the evidence gives {'low': 1}"
    ]
