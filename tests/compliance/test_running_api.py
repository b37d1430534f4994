"""The read-only API: /api/v1/running/, /running/diff/, /deployments/ with filters."""

from __future__ import annotations

import pytest

from devkit.sandbox.argocd import application, history_item, operation_state
from evidence.readmodels.models import Deployment
from tests.support.gitops import at, digest, record_argocd, sha

pytestmark = pytest.mark.usefixtures("projected")
REPO = "https://git.example.test/acme/deploy.git"


@pytest.fixture
def story(db):
    """payments: sha1 then sha2 in prod, a failed sha3; cart in prod; payments sha1 in staging."""
    failed = operation_state("Failed", sha(3), at(200), at(201), "hook failed", user="bob")
    history = [history_item(1, sha(1), at(9), at(10), REPO), history_item(2, sha(2), at(99), at(100), REPO)]
    images = [f"registry.example.test/acme/payments@{digest(2)}"]
    record_argocd(application("payments", history=history, images=images, operation=failed), "prod")
    cart = [history_item(1, sha(7), at(49), at(50), REPO, user="alice")]
    record_argocd(application("cart", history=cart, images=[f"registry.example.test/acme/cart@{digest(7)}"]), "prod")
    stage = [history_item(1, sha(1), at(19), at(20), REPO)]
    record_argocd(application("payments", history=stage), "staging", source="argo-staging")


def test_it_refuses_an_outsider(client, story):
    for url in ("/api/v1/running/?environment=prod", "/api/v1/deployments/", "/api/v1/running/diff/?environment=prod"):
        assert client.get(url).status_code in (401, 403), url


def test_it_answers_what_was_running(auditor, story):
    response = auditor.get("/api/v1/running/", {"environment": "prod", "at": at(60).isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["environment"] == "prod"
    apps = {a["application"]: a for a in body["applications"]}
    assert apps["payments"]["revision"] == sha(1)
    assert apps["cart"]["digests"] == [digest(7)]
    assert apps["cart"]["since"] == at(50).isoformat()
    assert apps["cart"]["entry_seqs"]


def test_it_accepts_deployments_back(auditor, story):
    body = auditor.get("/api/v1/running/", {"environment": "prod", "at": "~0"}).json()
    assert {a["application"]: a["revision"] for a in body["applications"]} == {"payments": sha(2), "cart": sha(7)}


def test_it_answers_400_with_a_message_for_a_bad_time(auditor, story):
    response = auditor.get("/api/v1/running/", {"environment": "prod", "at": "yesterday-ish"})
    assert response.status_code == 400
    assert "expected an ISO 8601 time" in response.json()["detail"]
    response = auditor.get("/api/v1/running/", {"at": "now"})
    assert (response.status_code, response.json()["detail"]) == (400, "an environment is required")


def test_it_diffs_two_times(auditor, story):
    response = auditor.get("/api/v1/running/diff/", {"environment": "prod", "from": at(30).isoformat(), "to": "~0"})
    assert response.status_code == 200
    diff = response.json()
    assert [a["application"] for a in diff["added"]] == ["cart"]
    assert [(c["application"], c["to"]["revision"]) for c in diff["changed"]] == [("payments", sha(2))]


def test_it_diffs_two_environments(auditor, story):
    query = {"from_environment": "staging", "to_environment": "prod", "from": "now", "to": "now"}
    diff = auditor.get("/api/v1/running/diff/", query).json()
    assert [a["application"] for a in diff["added"]] == ["cart"]
    [change] = diff["changed"]
    assert (change["from"]["revision"], change["to"]["revision"]) == (sha(1), sha(2))


def test_it_refuses_a_diff_without_environments(auditor, story):
    response = auditor.get("/api/v1/running/diff/", {"from": "now"})
    assert response.status_code == 400
    assert "environment" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"environment": "staging"}, {("payments", sha(1))}),
        ({"application": "cart"}, {("cart", sha(7))}),
        ({"outcome": "failed"}, {("payments", sha(3))}),
        ({"digest": digest(2)}, {("payments", sha(2))}),
        ({"revision": sha(7)[:12]}, {("cart", sha(7))}),
        (
            {"environment": "prod", "finished_after": at(60).isoformat(), "finished_before": at(150).isoformat()},
            {("payments", sha(2))},
        ),
    ],
)
def test_it_filters_deployments(auditor, story, query, expected):
    response = auditor.get("/api/v1/deployments/", query)
    assert response.status_code == 200
    assert {(d["application"], d["revision"]) for d in response.json()["results"]} == expected


def test_it_shows_one_deployment_with_its_images_and_entries(auditor, story):
    row = Deployment.objects.get(revision=sha(2), environment="prod")
    body = auditor.get(f"/api/v1/deployments/{row.pk}/").json()
    assert body["images"] == [
        {
            "digest": digest(2),
            "image": f"registry.example.test/acme/payments@{digest(2)}",
            "origin": "controller",
            "entry_seq": body["images"][0]["entry_seq"],
        }
    ]
    assert body["entry_seqs"] == row.entry_seqs and body["outcome"] == "succeeded"
    assert auditor.get("/api/v1/deployments/999999/").status_code == 404


def test_it_refuses_to_change_anything(auditor, story):
    row = Deployment.objects.first()
    assert auditor.delete(f"/api/v1/deployments/{row.pk}/").status_code == 405
    assert auditor.post("/api/v1/deployments/", {}).status_code == 405
