"""The deployments admin: an engineer browses and searches; nobody edits projected rows."""

from __future__ import annotations

import pytest

import evidence.compliance.admin.deployments  # noqa: F401  (registers the admin classes)
from devkit.sandbox.argocd import application, history_item
from evidence.readmodels.models import Deployment
from tests.support.gitops import at, digest, record_argocd, sha

pytestmark = pytest.mark.usefixtures("projected")


def test_it_lists_searches_and_refuses_edits(client, db, superuser):
    client.force_login(superuser.user)
    history = [history_item(1, sha(1), at(9), at(10), "https://git.example.test/r.git")]
    record_argocd(application("payments", history=history, images=[f"r.example.test/p@{digest(1)}"]), "prod")
    row = Deployment.objects.get()
    page = client.get("/admin/readmodels/deployment/", {"q": digest(1)})
    assert page.status_code == 200 and sha(1) in page.content.decode()
    assert client.get("/admin/readmodels/deployment/", {"q": digest(2)}).content.decode().count(sha(1)) == 0
    assert client.get("/admin/readmodels/deployment/add/").status_code == 403
    assert client.post(f"/admin/readmodels/deployment/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Deployment.objects.filter(pk=row.pk).exists()
