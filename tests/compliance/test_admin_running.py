"""The "what was running at T" admin page: a form, and the answer of evidence.compliance.running as a table."""

from __future__ import annotations

from evidence.readmodels.models import Deployment
from tests.support.admin_world import build_world
from tests.support.gitops import at, sha

PAGE = "/admin/readmodels/deployment/running/"


def test_it_shows_what_ran_at_each_time(client, db, projected, auditor):
    build_world(deployments=2)  # sync 1 (sha(101)) finished at at(12), sync 2 (sha(1)) at at(22)
    client.force_login(auditor.user)
    first = Deployment.objects.get(revision=sha(101))

    between = client.get(PAGE, {"environment": "prod", "at": at(15).isoformat()}).content.decode()
    later = client.get(PAGE, {"environment": "prod", "at": at(30).isoformat()}).content.decode()
    before = client.get(PAGE, {"environment": "prod", "at": at(5).isoformat()}).content.decode()

    assert sha(101)[:12] in between and sha(1)[:12] not in between
    assert f'href="/admin/readmodels/deployment/{first.pk}/change/"' in between
    assert sha(1)[:12] in later and sha(101)[:12] not in later
    assert "Nothing was running there at that time." in before


def test_it_explains_a_time_it_cannot_read(client, db, projected, auditor):
    build_world()
    client.force_login(auditor.user)
    page = client.get(PAGE, {"environment": "prod", "at": "last tuesday"})
    assert page.status_code == 200 and "expected an ISO 8601 time" in page.content.decode()
    assert 'id="running"' not in page.content.decode()
