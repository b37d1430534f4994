"""Engineers browse harvested pull requests in the admin; nobody edits them there."""

from __future__ import annotations

import pytest

from evidence.readmodels.models import PullRequest
from tests.support.forge_fixtures import REPO, run

pytestmark = pytest.mark.usefixtures("projected")  # harvests are seen through the read models


def test_it_lists_pull_requests_with_their_approvals_read_only(client, github_source, superuser):
    run(github_source, REPO)
    client.force_login(superuser.user)
    pull = PullRequest.objects.get(number=3)

    listing = client.get("/admin/readmodels/pullrequest/")
    detail = client.get(f"/admin/readmodels/pullrequest/{pull.pk}/change/")
    add = client.get("/admin/readmodels/pullrequest/add/")

    assert listing.status_code == 200 and f"{REPO}#3".encode() in listing.content
    assert detail.status_code == 200 and b"carol" in detail.content and b"dave" in detail.content
    assert add.status_code == 403
