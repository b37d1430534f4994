"""What a deployment shipped since the previous one of its application and environment, from the
recorded first-parent history: the pull requests and commits a lead-time figure is built on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.readmodels.ancestry import DIRECT, MERGED_AS, REBASED, changes_shipped
from tests.support.ancestry_world import T0, ShopWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(monkeypatch):
    world = ShopWorld(monkeypatch)
    world.pull(1, T0, "merge")
    world.pull(2, T0 + timedelta(hours=1), "rebase", commits=2)
    world.push("hotfix", T0 + timedelta(hours=1, minutes=30))
    world.pull(3, T0 + timedelta(hours=2), "squash")
    world.harvest()
    yield world
    world.stop()


def test_it_lists_the_commits_and_pull_requests_shipped_since_the_previous_deployment(shop):
    pulls = shop.repo.pulls
    before = shop.deploy(pulls[1].merge_commit_sha, T0 + timedelta(minutes=30))
    after = shop.deploy(pulls[3].merge_commit_sha, T0 + timedelta(hours=3))

    shipped = changes_shipped(after)

    assert shipped.previous == before and shipped.complete
    assert [(c.sha, c.how) for c in shipped.commits] == [
        (shop.rebased(2, 0), REBASED),
        (pulls[2].merge_commit_sha, MERGED_AS),
        (shop.push("hotfix", T0), DIRECT),
        (pulls[3].merge_commit_sha, MERGED_AS),
    ]
    assert [p.number for p in shipped.pulls] == [2, 3]
    assert shipped.commits[2].landed_by.number == 3  # the direct push went out under #3's merge


def test_it_ships_nothing_on_a_rollback(shop):
    pulls = shop.repo.pulls
    shop.deploy(pulls[3].merge_commit_sha, T0 + timedelta(hours=3))
    back = shop.deploy(pulls[1].merge_commit_sha, T0 + timedelta(hours=4))

    shipped = changes_shipped(back)

    assert shipped.commits == () and shipped.pulls == () and shipped.complete


def test_it_starts_after_the_merge_before_when_nothing_was_deployed_before(shop):
    first = shop.deploy(shop.repo.pulls[2].merge_commit_sha, T0 + timedelta(hours=3))

    shipped = changes_shipped(first)

    assert shipped.previous is None and not shipped.complete
    assert [c.sha for c in shipped.commits] == [shop.rebased(2, 0), shop.repo.pulls[2].merge_commit_sha]


def test_it_knows_no_line_for_a_commit_off_every_recorded_branch(shop):
    shipped = changes_shipped(shop.deploy("a" * 40, T0 + timedelta(hours=3)))

    assert shipped.line is None and shipped.commits == ()
