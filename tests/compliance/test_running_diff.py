"""A diff compares what the pods ran, container by container, as well as what the controller named:
a pod running another digest under an unchanged revision is a change."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from devkit.sandbox.argocd import application, history_item
from evidence.compliance.running import diff_running, running_at
from ledger.append import append_entries
from ledger.envelope import Record
from tests.support.gitops import at, digest, record_argocd, sha

pytestmark = pytest.mark.usefixtures("projected")
REPO = "https://git.example.test/acme/deploy.git"
WEB = "registry.example.test/acme/web"


def pods(environment: str, minute: int, containers: dict[str, int]) -> None:
    """One pod of `web` whose containers run the given digests (name -> digest number)."""
    items = [{"name": n, "image": f"{WEB}-{n}:1", "imageID": f"{WEB}-{n}@{digest(d)}"} for n, d in containers.items()]
    data = {
        "namespace": "shop",
        "pods": [{"name": "web-1", "environment": environment, "application": "web", "containers": items}],
    }
    key = f"kube:pods:{environment}:{minute}:{sorted(containers.items())}"
    append_entries([Record("kubernetes.pods", "kube", "kubernetes:shop", key, data, observed_at=at(minute))])


@pytest.fixture
def web(db):
    """web at revision 1 naming digest 1 in prod and staging; prod's sidecar moves from 5 to 6 at minute 40."""
    for environment, source in (("prod", "argo-prod"), ("staging", "argo-staging")):
        history = [history_item(1, sha(1), at(9), at(10), REPO)]
        record_argocd(application("web", history=history, images=[f"{WEB}-app@{digest(1)}"]), environment, source)
    pods("prod", 20, {"app": 1, "sidecar": 5})
    pods("staging", 20, {"app": 1, "sidecar": 5})
    pods("prod", 40, {"app": 1, "sidecar": 6})


def test_it_reports_a_container_whose_pods_ran_another_digest(web):
    diff = diff_running(running_at("prod", at(30)), running_at("prod", at(50)))
    [change] = diff["changed"]
    assert change["from"]["revision"] == change["to"]["revision"] == sha(1)
    assert change["digests_added"] == change["digests_removed"] == []
    assert change["containers"] == [{"container": "sidecar", "from": [digest(5)], "to": [digest(6)]}]
    assert change["to"]["observed_containers"] == {"app": [digest(1)], "sidecar": [digest(6)]}


def test_it_compares_two_environments_by_their_pods_too(web):
    across = diff_running(running_at("staging", at(50)), running_at("prod", at(50)))
    assert [c["containers"] for c in across["changed"]] == [
        [{"container": "sidecar", "from": [digest(5)], "to": [digest(6)]}]
    ]
    same = diff_running(running_at("staging", at(30)), running_at("prod", at(30)))
    assert (same["changed"], same["unchanged"]) == ([], 1)


def test_the_command_prints_the_container_that_changed(web):
    out = io.StringIO()
    call_command(
        "running", "--environment", "prod", "--at", at(30).isoformat(), "--compare-at", at(50).isoformat(), stdout=out
    )
    assert f"pods, container sidecar: {digest(5)} -> {digest(6)}" in out.getvalue()
