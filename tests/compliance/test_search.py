"""GET /api/v1/search/?q=: what people paste (a commit prefix, a Flux revision, a digest, a pull or
merge request, a login) finds what it names and where and when that ran; nothing typed gives a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.sandbox.kubernetes import kustomization, kustomization_history_item
from evidence.readmodels.models import Deployment
from tests.support.custody_story import APP, CONFIG, T0, Story, sha


@pytest.fixture
def story(db, projected) -> Story:
    """The clean change: acme/payments#1 built into the deployed image, acme/deploy#2 deployed to prod;
    then a Flux deployment of `main@sha1:<flux>` and a GitLab merge request group/shop!7."""
    story = Story().clean()
    revision = f"main@sha1:{sha('flux')}"
    item = kustomization_history_item(revision, "sha256:" + "ab" * 32, T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    obj = kustomization("shop", "flux-system", history=[item])
    flux = {
        "environment": "prod",
        "application": "shop",
        "controller": "kustomize-controller",
        "object": {"kind": "Kustomization", "namespace": "flux-system", "name": "shop"},
        "status": obj["status"],
    }
    subject = "flux:flux-system/Kustomization/shop"
    story.add("flux.kustomization", "flux-prod", subject, "flux:shop:1", flux, T0 + timedelta(hours=4))
    merge_request = {
        "repository": "group/shop",
        "iid": 7,
        "title": "Checkout",
        "web_url": "https://gitlab.example.test/group/shop/-/merge_requests/7",
        "author": "erin",
        "base": "main",
        "head_sha": sha("mr-head"),
        "merge_commit_sha": sha("flux"),
        "merged_at": "2026-03-02T14:00:00Z",
        "merged_by": "erin",
        "commits": [sha("mr-head")],
    }
    story.add("gitlab.merge_request", "gitlab-acme", "gitlab:group/shop", "gitlab:mr:7", merge_request, T0)
    story.append()
    return story


def find(client, q: str) -> dict:
    response = client.get("/api/v1/search/", {"q": q})
    assert response.status_code == 200, response.content
    return response.json()


def test_it_finds_a_deployed_commit_by_any_prefix_of_seven(auditor, story):
    deployed = Deployment.objects.get(application="payments")
    for q in (story.config_merge[:7], story.config_merge[:12].upper(), story.config_merge):
        body = find(auditor, q)
        assert body["kind"] == "commit" and body["found"]
        assert [m["reference"] for m in body["matches"] if m["kind"] == "pull_request"] == [f"{CONFIG}#2"]
        [ran] = body["deployments"]
        assert (ran["id"], ran["environment"], ran["application"]) == (deployed.id, "prod", "payments")
        assert (ran["ran_from"], ran["ran_until"], ran["running_now"]) == (story.deployed_at.isoformat(), None, True)
        assert ran["links"]["api"] == f"/api/v1/deployments/{deployed.id}/"
        assert ran["links"]["custody"] == f"/api/v1/deployments/{deployed.id}/custody/"


def test_it_follows_an_application_commit_through_its_build_to_where_it_ran(auditor, story):
    body = find(auditor, story.merge[:10])
    kinds = {m["kind"] for m in body["matches"]}
    assert kinds == {"pull_request", "build"}
    assert [m["reference"] for m in body["matches"] if m["kind"] == "pull_request"] == [f"{APP}#1"]
    assert [d["application"] for d in body["deployments"]] == ["payments"]


def test_it_finds_a_flux_deployment_by_its_revision_or_its_sha(auditor, story):
    for q in (f"main@sha1:{sha('flux')}", sha("flux")[:8]):
        body = find(auditor, q)
        assert [d["application"] for d in body["deployments"]] == ["shop"], q
        assert [m["reference"] for m in body["matches"] if m["kind"] == "merge_request"] == ["group/shop!7"]


def test_it_finds_an_image_by_its_digest(auditor, story):
    body = find(auditor, story.image[:19])
    assert body["kind"] == "digest"
    [image] = [m for m in body["matches"] if m["kind"] == "image"]
    assert (image["digest"], image["repository"], image["tags"]) == (
        story.image,
        "registry.local/acme/payments",
        ["1.0"],
    )
    assert [m["source_commit"] for m in body["matches"] if m["kind"] == "build"] == [story.merge]
    assert [d["application"] for d in body["deployments"]] == ["payments"]


def test_it_finds_a_pull_request_and_a_merge_request_by_reference(auditor, story):
    body = find(auditor, f"{APP}#1")
    [change] = body["matches"]
    assert (change["kind"], change["author"], change["merge_commit"]) == ("pull_request", "alice", story.merge)
    assert change["links"]["forge"] == "https://github.com/acme/payments/pull/1"
    assert [d["application"] for d in body["deployments"]] == ["payments"]  # through its build
    body = find(auditor, "group/shop!7")
    assert [(m["kind"], m["reference"]) for m in body["matches"]] == [("merge_request", "group/shop!7")]
    assert [d["application"] for d in body["deployments"]] == ["shop"]
    assert find(auditor, f"{APP}#99") == {
        "query": f"{APP}#99",
        "kind": "change",
        "found": False,
        "matches": [],
        "deployments": [],
        "truncated": False,
    }


def test_it_finds_what_a_person_authored_and_reviewed(auditor, story):
    body = find(auditor, "bob")
    assert body["kind"] == "person"
    assert [(m["kind"], m["repository"], m["number"]) for m in body["matches"]] == [("review", APP, 1)]
    assert [(m["kind"], m["reference"]) for m in find(auditor, "carol")["matches"]] == [("pull_request", f"{CONFIG}#2")]


def test_it_refuses_what_it_cannot_search_and_who_may_not(auditor, outsider, story):
    for q in ("", "   ", "a b", "sha256:xyz", "acme/payments#", "x" * 200):
        response = auditor.get("/api/v1/search/", {"q": q})
        assert response.status_code == 400, q
        assert "commit SHA" in response.json()["detail"]
    assert outsider.get("/api/v1/search/", {"q": "bob"}).status_code == 403


@given(q=st.text(max_size=80) | st.from_regex(r"[0-9a-fA-F@:/#!~.sha1256-]{0,70}", fullmatch=True))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_query_gives_a_server_error(auditor, story, q):
    response = auditor.get("/api/v1/search/", {"q": q})
    assert response.status_code in (200, 400), (q, response.status_code)
    assert "detail" in response.json() or response.json()["kind"] in ("commit", "digest", "change", "person")
