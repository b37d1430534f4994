"""Which merge covers a deployed commit, from main's first-parent history as harvested: merge,
squash and rebase merges; an intermediate commit; a deployment before the merge; a commit not on
the protected branch; a direct push shipped under a later merge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.compliance.custody.rules.base import merged_as
from evidence.readmodels.models import BranchCommit
from tests.support.ancestry_world import T0, ShopWorld, link

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(monkeypatch):
    world = ShopWorld(monkeypatch)
    world.pull(1, T0, "merge")
    world.pull(2, T0 + timedelta(hours=1), "squash")
    world.pull(3, T0 + timedelta(hours=2), "rebase", commits=3)
    world.push("hotfix", T0 + timedelta(hours=2, minutes=30))
    world.pull(4, T0 + timedelta(hours=3), "merge")
    yield world
    world.stop()


def test_it_records_main_as_the_forge_built_it_merge_squash_rebase_and_push(shop):
    shop.harvest()

    line = list(BranchCommit.objects.filter(repository="acme/shop", branch="main").values_list("sha", flat=True))
    pulls = shop.repo.pulls
    assert line[1:] == [
        pulls[1].merge_commit_sha,
        pulls[2].merge_commit_sha,
        shop.rebased(3, 0),
        shop.rebased(3, 1),
        pulls[3].merge_commit_sha,
        shop.push("hotfix", T0),  # the same SHA: pushes are named by their label
        pulls[4].merge_commit_sha,
    ]
    assert pulls[1].commits[0] not in line  # a merge commit's second parent is not on the first-parent line


@pytest.mark.parametrize("number", [1, 2, 3])
def test_it_covers_the_commit_a_merge_squash_or_rebase_produced_by_its_pull_request(shop, number):
    shop.harvest()
    pull = shop.repo.pulls[number]

    codes, chain = shop.judge(shop.deploy(pull.merge_commit_sha, T0 + timedelta(days=1), f"shop-{number}"))

    assert codes == []
    branch = link(chain, "config branch")
    assert branch.status == "satisfied"
    assert f"as the merge of github:acme/shop#{number}" in branch.explanation


def test_it_finds_an_earlier_commit_of_a_rebase_deployed_as_an_intermediate_commit(shop):
    shop.harvest()

    codes, chain = shop.judge(shop.deploy(shop.rebased(3, 1), T0 + timedelta(days=1)))

    assert codes == ["intermediate_commit_deployed"]  # not "no pull request": the rebase landed it
    text = link(chain, "config branch").explanation
    assert "that a rebase put on acme/shop@main before the commit it merged as" in text


def test_it_finds_an_intermediate_commit_of_a_merge_commit_pull_request(shop):
    shop.harvest()
    first = shop.repo.pulls[1].commits[0]

    codes, chain = shop.judge(shop.deploy(first, T0 + timedelta(days=1)))

    assert codes == ["intermediate_commit_deployed"]
    assert "commit 1 of 2 of github:acme/shop#1, not its reviewed head" in link(chain, "config branch").explanation


def test_it_finds_a_deployment_made_before_its_pull_request_was_merged(shop):
    late = shop.pull(5, T0 + timedelta(days=2))
    shop.harvest()

    codes, chain = shop.judge(shop.deploy(late.head_sha, T0 + timedelta(days=1)))

    assert codes == ["deployed_before_merge"]
    assert "before github:acme/shop#5 was merged" in link(chain, "config branch").explanation


def test_it_finds_a_commit_the_protected_branch_never_was_at(shop):
    shop.harvest()
    feature = "f" * 40

    codes, chain = shop.judge(shop.deploy(feature, T0 + timedelta(days=1)))

    assert codes == ["no_pull_request", "not_on_protected_branch"]
    assert "not on the first-parent history of acme/shop@main" in link(chain, "config branch").explanation


def test_it_finds_the_head_of_a_merge_commit_pull_request_off_the_branch(shop):
    shop.harvest()
    pull = shop.repo.pulls[4]

    codes, _ = shop.judge(shop.deploy(pull.head_sha, T0 + timedelta(days=1)))

    assert pull.head_sha not in merged_as_of(shop, 4)
    assert codes == ["not_on_protected_branch"]


def test_it_calls_the_branch_not_evidenced_when_no_history_harvest_ran_after_the_deployment(shop):
    shop.harvest()
    from django.utils import timezone

    later = (timezone.now() + timedelta(days=1)).replace(microsecond=0)  # deployed after the last harvest

    codes, chain = shop.judge(shop.deploy("e" * 40, later))

    assert "not_on_protected_branch" not in codes
    branch = link(chain, "config branch")
    assert (branch.status, branch.reason) == ("not_evidenced", "not_looked")


def test_it_finds_a_direct_push_shipped_under_a_later_merge(shop):
    shop.harvest()
    hotfix = shop.push("hotfix", T0)
    shop.deploy(shop.repo.pulls[3].merge_commit_sha, T0 + timedelta(hours=2, minutes=10))

    codes, chain = shop.judge(shop.deploy(shop.repo.pulls[4].merge_commit_sha, T0 + timedelta(days=1)))

    assert codes == ["direct_push_under_merge"]
    branch = link(chain, "config branch")
    assert f"{hotfix[:12]} by mallory" in branch.explanation
    assert "as the merge of github:acme/shop#4" in branch.explanation


def test_it_does_not_count_a_direct_push_again_once_a_deployment_shipped_it(shop):
    shop.harvest()
    shop.deploy(shop.push("hotfix", T0), T0 + timedelta(hours=2, minutes=40))

    codes, _ = shop.judge(shop.deploy(shop.repo.pulls[4].merge_commit_sha, T0 + timedelta(days=1)))

    assert codes == []


def merged_as_of(shop: ShopWorld, number: int) -> set[str]:
    from evidence.readmodels.models import PullRequest

    return merged_as(PullRequest.objects.get(repository="acme/shop", number=number))
