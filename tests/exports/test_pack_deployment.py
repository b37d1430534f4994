"""Audit packs for the custody scopes: one deployment, an environment over a period, a repository
over a period. Each verifies offline, states figures the verifier recomputes, and carries the
findings of the chain with the entries behind them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from evidence.compliance.models import Finding
from evidence.readmodels.models import Deployment
from exports.pack.build import build_pack
from exports.pack.scope import Scope, ScopeError
from exports.verifier import read_attachments, verify
from tests.support.custody_story import APP, T0, Story, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


@pytest.fixture
def history(ledger_key):
    """Deployment a: clean. Deployment b (a day later): its image is unsigned."""
    prod_policy()
    Story("a").clean().append()
    later = Story("b")
    later.deployed_at = T0 + timedelta(days=1)
    later.clean(signature=("no_signature", "")).append()
    first, second = Deployment.objects.order_by("finished_at")
    return {"a": first, "b": second}


def test_it_packs_one_deployment_with_its_chain_and_findings(history, operator_signer, ledger_pub):
    built = build_pack(
        Scope.from_json({"type": "deployment", "deployment": str(history["b"].pk)}), "auditor", operator_signer
    )

    report = verify(built.pdf, ledger_pub.read_text())
    assert report.ok, report.text()
    files = read_attachments(built.pdf)
    findings = json.loads(files["findings.json"])
    assert [f["code"] for f in findings] == ["image_unsigned"]
    assert set(findings[0]["seqs"]) == set(Finding.objects.get().entry_seqs)
    stated = json.loads(files["summary.json"])["figures"]
    assert stated["count.deployments"] == 1
    assert stated["findings.by_code"] == {"image_unsigned": 1}
    assert stated["count.policy_versions"] == 1
    assert "github.branch_protection" in stated["entries.by_kind"]


def test_it_packs_an_environment_over_a_period_with_a_sample(history, operator_signer, ledger_pub):
    scope = {
        "type": "environment",
        "environment": "prod",
        "since": "2026-03-01T00:00:00Z",
        "until": "2026-04-01T00:00:00Z",
        "sample": 1,
        "seed": "q1-2026",
    }

    built = build_pack(Scope.from_json(scope), "auditor", operator_signer)

    report = verify(built.pdf, ledger_pub.read_text())
    assert report.ok, report.text()
    stated = json.loads(read_attachments(built.pdf)["summary.json"])["figures"]
    assert stated["count.deployments"] == 2
    assert stated["findings.by_severity"] == {"high": 1}
    assert len(stated["sample.seqs"]) == 1


def test_it_leaves_out_deployments_outside_the_period(history, operator_signer):
    scope = {
        "type": "environment",
        "environment": "prod",
        "since": "2026-03-03T00:00:00Z",
        "until": "2026-03-04T00:00:00Z",
    }

    built = build_pack(Scope.from_json(scope), "auditor", operator_signer)

    assert built.summary["figures"]["count.deployments"] == 1  # only b, deployed on the 3rd


def test_it_packs_a_repository_over_a_period(history, operator_signer, ledger_pub):
    scope = {"type": "repository", "repository": APP, "since": "2026-03-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"}

    built = build_pack(Scope.from_json(scope), "auditor", operator_signer)

    report = verify(built.pdf, ledger_pub.read_text())
    assert report.ok, report.text()
    stated = built.summary["figures"]
    assert stated["count.changes"] == 2
    assert stated["findings.total"] == 0  # both app changes were approved on their heads under protection


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"type": "deployment", "deployment": "999999"}, "deployment: no deployment '999999'"),
        (
            {"type": "environment", "environment": "staging", "since": "2026-03-01", "until": "2026-04-01"},
            "no deployment to 'staging'",
        ),
        (
            {"type": "repository", "repository": "acme/none", "since": "2026-03-01", "until": "2026-04-01"},
            "no merged change in 'acme/none'",
        ),
    ],
)
def test_it_refuses_an_empty_scope_plainly(history, operator_signer, scope, message):
    with pytest.raises(ScopeError, match=message):
        build_pack(Scope.from_json(scope), "auditor", operator_signer)
