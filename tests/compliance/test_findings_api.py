"""GET /api/v1/findings/ (filters), POST /findings/<id>/accept/ and /acceptances/<seq>/approve/ (engineers,
four eyes), /policies/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evidence.compliance.models import Finding, Policy
from ledger.models import Entry
from tests.support.custody_story import POLICY, T0, Story, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


@pytest.fixture
def findings():
    """Deployment a (T0+2h): image unsigned (high). Deployment b (T0+1d): no provenance (medium); its
    image is then not traced to a commit, which is no evidence of a direct push (no no_pull_request)."""
    prod_policy()
    # grace approves both changes, so the engineer persona (bob) is outside them and may propose
    # accepting their risk (four eyes refuses a change's own people).
    first = Story("a")
    first.clean(signature=("no_signature", ""), app_reviews=[("grace", first.head)]).append()
    later = Story("b")
    later.deployed_at = T0 + timedelta(days=1)
    later.clean(skip={"provenance"}, app_reviews=[("grace", later.head)]).append()
    return Finding.objects.all()


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(item["code"] for item in response.json()["results"])


def test_it_lists_findings_with_their_evidence(auditor, findings):
    body = auditor.get("/api/v1/findings/").json()

    assert body["count"] == 2
    first = body["results"][0]  # newest deployment first
    assert first["environment"] == "prod"
    assert first["status"] == "open"
    assert first["entry_seqs"]
    assert first["title"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("severity=high", ["image_unsigned"]),
        ("severity=medium", ["no_provenance"]),
        ("code=no_provenance", ["no_provenance"]),
        ("environment=prod", ["image_unsigned", "no_provenance"]),
        ("environment=staging", []),
        ("until=2026-03-03T00:00:00Z", ["image_unsigned"]),
        ("since=2026-03-03T00:00:00Z", ["no_provenance"]),
        ("status=open", ["image_unsigned", "no_provenance"]),
        ("status=accepted", []),
    ],
)
def test_it_filters_findings(auditor, findings, query, expected):
    assert codes(auditor.get(f"/api/v1/findings/?{query}")) == expected


def test_it_refuses_an_unknown_filter_value_with_400(auditor, findings):
    response = auditor.get("/api/v1/findings/?severity=catastrophic")

    assert response.status_code == 400
    assert "severity" in response.json()


def test_it_accepts_a_finding_once_a_second_engineer_approves_and_keeps_it_listed(
    engineer, second_engineer, auditor, findings, projected
):
    finding = findings.get(code="image_unsigned")
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    response = engineer.post(
        f"/api/v1/findings/{finding.pk}/accept/", {"reason": "Key rotation; see SEC-12.", "until": until}, format="json"
    )

    assert response.status_code == 201, response.content
    entry = Entry.objects.get(kind="finding.acceptance.proposed")
    assert entry.seq == response.json()["seq"]
    assert entry.data["proposed_by"] == engineer.user.username
    assert codes(auditor.get("/api/v1/findings/?status=accepted")) == []  # one engineer alone: still open
    approved = second_engineer.post(f"/api/v1/acceptances/{entry.seq}/approve/")
    assert approved.status_code == 201, approved.content
    assert Entry.objects.get(kind="finding.acceptance.approved").data["approved_by"] == second_engineer.user.username
    assert codes(auditor.get("/api/v1/findings/?status=accepted")) == ["image_unsigned"]
    assert codes(auditor.get("/api/v1/findings/")) == ["image_unsigned", "no_provenance"]


@pytest.mark.parametrize(("persona", "status"), [("auditor", 403), ("outsider", 403), ("anonymous", 401)])
def test_it_lets_no_one_else_accept_a_finding(persona, status, findings, request):
    finding = findings.first()
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    response = request.getfixturevalue(persona).post(
        f"/api/v1/findings/{finding.pk}/accept/", {"reason": "Looks fine to me.", "until": until}, format="json"
    )

    assert response.status_code == status
    assert not Entry.objects.filter(kind="finding.acceptance.proposed").exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"reason": "Because.", "until": "2099-01-01T00:00:00Z"}, "reason"),
        ({"reason": "Accepted for the quarter.", "until": "2001-01-01T00:00:00Z"}, "until: must be in the future"),
        ({"reason": "Accepted for the quarter."}, "until"),
    ],
)
def test_it_refuses_a_bad_acceptance_and_writes_nothing(engineer, findings, payload, message):
    response = engineer.post(f"/api/v1/findings/{findings.first().pk}/accept/", payload, format="json")

    assert response.status_code == 400
    assert message in str(response.json())
    assert not Entry.objects.filter(kind="finding.acceptance.proposed").exists()


def test_it_refuses_outsiders_and_anonymous_callers_the_findings(outsider, anonymous, findings):
    assert outsider.get("/api/v1/findings/").status_code == 403
    assert "results" not in outsider.get("/api/v1/findings/").json()
    assert anonymous.get("/api/v1/findings/").status_code == 401


def test_it_puts_a_policy_version_in_force_once_a_second_engineer_approves(
    engineer, second_engineer, auditor, projected
):
    response = engineer.post("/api/v1/policies/", {"environment": "prod", **POLICY, "min_approvals": 2}, format="json")

    assert response.status_code == 201, response.content
    proposal = Entry.objects.get(kind="policy.version.proposed")
    assert proposal.data["recorded_by"] == engineer.user.username
    listed = auditor.get("/api/v1/policies/?environment=prod").json()["results"]
    assert [(p["version"], p["min_approvals"], p["approval_seq"]) for p in listed] == [(1, 2, None)]
    assert engineer.post(f"/api/v1/policies/{proposal.seq}/approve/").status_code == 400  # not their own
    approved = second_engineer.post(f"/api/v1/policies/{proposal.seq}/approve/")
    assert approved.status_code == 201, approved.content
    listed = auditor.get("/api/v1/policies/?environment=prod").json()["results"]
    expected = [(second_engineer.user.username, approved.json()["seq"])]
    assert [(p["approved_by"], p["approval_seq"]) for p in listed] == expected


@pytest.mark.parametrize(("persona", "status"), [("auditor", 403), ("outsider", 403), ("anonymous", 401)])
def test_it_lets_no_one_else_record_a_policy(persona, status, request):
    response = request.getfixturevalue(persona).post("/api/v1/policies/", {"environment": "prod"}, format="json")

    assert response.status_code == status
    assert not Entry.objects.filter(kind="policy.version.proposed").exists()


def test_it_refuses_a_bad_policy_with_a_message(engineer):
    response = engineer.post(
        "/api/v1/policies/", {"environment": "prod", "protection": {"required_approvals": -1}}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "protection.required_approvals: expected a whole number"}
    assert not Policy.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("outsider", 403), ("anonymous", 401)])
def test_it_refuses_outsiders_the_policies(persona, status, request):
    prod_policy()

    response = request.getfixturevalue(persona).get("/api/v1/policies/")

    assert response.status_code == status
    assert "results" not in response.json()
