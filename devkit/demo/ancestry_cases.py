"""The demo's seeded cases about commit ancestry and segregation of duties, all on acme/web
(deployed to web-prod only): each is a `SeededCase` of the world, with the codes it must raise.

  approver-committed       an approver of a built change also pushed one of its commits
  author-merged            a built change merged by its own author
  direct-push-under-merge  a commit pushed straight to main, shipped under the next deployed merge
  intermediate-commit      an image built from a change's first commit (not its merge) deployed
  deployed-before-merge    an image built from a change's head deployed an hour before the merge
  author-deployed          the author of the running change re-synced it by hand

The hotfix pushed straight to acme/payments (`direct-push`) is put on main's history too, where
it was pushed. Nothing here draws from the world's random stream.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from devkit.demo.world import FIRST_FORGE_HARVEST, FORGE_HOST, Image, Push, SeededCase
from devkit.demo.world import Deployment as Sync
from devkit.sandbox.github import fake_sha

if TYPE_CHECKING:
    from devkit.demo.world import Change, World


def seed_ancestry_cases(world: World) -> None:
    add = world.add_case
    by_merge = {c.merge_commit: c for c in world.changes}
    web = sorted((i for i in world.images if i.repository == "acme/web"), key=lambda i: i.built_at)
    built = [(i, by_merge[i.commit]) for i in web if i.commit in by_merge]
    clean = [(i, c) for i, c in built if i.signer == "release" and i.claimed_commit == i.commit]
    prod = sorted((d for d in world.deployments if d.app == "web-prod" and not d.failed), key=lambda d: d.at)

    # The acme/payments hotfix was pushed to main a quarter of an hour before it was built.
    hotfix = next(i for i in world.images if i.tag == "1.99.0-hotfix")
    world.pushes.append(Push("acme/payments", hotfix.commit, "dave", hotfix.built_at - timedelta(minutes=15)))

    # An approver who pushed a commit: the other approval still suffices.
    image, change = next((i, c) for i, c in clean[::-1] if len(c.approvers) == 2 and len(c.commits) >= 2)
    pusher = change.approvers[0][0]
    world.pushed_by[(change.repository, change.number)] = {0: pusher}
    where = (
        f"{change.repository}#{change.number} ({image.tag}): approved by {pusher}, who also pushed "
        f"{change.commits[0][:12]} to it"
    )
    add(SeededCase("approver-committed", where, ("approver_committed",), image.commit, app="web-prod"))
    taken = {change.number}

    # The author merged their own change.
    image, change = next((i, c) for i, c in clean if c.number not in taken)
    change.merged_by = change.author
    where = f"{change.repository}#{change.number} ({image.tag}): merged by its author {change.author}"
    add(SeededCase("author-merged", where, ("author_merged_own_change",), image.commit, app="web-prod"))
    taken.add(change.number)

    # A direct push to main between two deployed releases ships under the later one's merge.
    later = next(d for d in prod[::-1] if by_merge.get(d.image.commit) and by_merge[d.image.commit].number not in taken)
    before = [d for d in prod if d.at < later.at][-1]
    pushed = fake_sha("acme/web", "direct-push-config-tweak")
    world.pushes.append(Push("acme/web", pushed, "mallory", before.at + timedelta(hours=1)))
    where = (
        f"acme/web {pushed[:12]}: pushed to main by mallory without review, then shipped with {later.image.tag} "
        f"to web-prod {later.at:%Y-%m-%d %H:%M}"
    )
    add(SeededCase("direct-push-under-merge", where, ("direct_push_under_merge",), app="web-prod", at=later.at))

    # An image built from a change's first commit, not its merge, deployed by the controller.
    images = {i.commit for i in world.images}
    spare = [c for c in world.changes if c.repository == "acme/web" and c.merge_commit not in images]
    spare = [c for c in spare if len(c.commits) >= 2 and c.number not in taken]
    # merged once a harvest had recorded the branch protection, else its protection is a gap too
    spare = [c for c in spare if c.merged_at > FIRST_FORGE_HARVEST]
    wip, early = _between(spare, prod)
    _deploy(world, wip, wip.commits[0], "wip", wip.merged_at + timedelta(hours=3))
    where = (
        f"web-prod: image built from {wip.commits[0][:12]}, commit 1 of {wip.repository}#{wip.number}, not its merge"
    )
    codes = ("intermediate_commit_deployed", "provenance_commit_mismatch")  # its provenance names that commit
    add(SeededCase("intermediate-commit", where, codes, app="web-prod", at=wip.merged_at + timedelta(hours=3)))

    # An image built from a change's head, deployed an hour before the change was merged.
    _deploy(world, early, early.head, "preview", early.merged_at - timedelta(hours=1))
    where = (
        f"web-prod: image built from the head of {early.repository}#{early.number}, deployed an hour before its merge"
    )
    codes = ("deployed_before_merge", "provenance_commit_mismatch")  # its provenance names the head
    add(SeededCase("deployed-before-merge", where, codes, app="web-prod", at=early.merged_at - timedelta(hours=1)))

    # The author of the running release syncs it again by hand.
    again = next(d for d in prod if by_merge.get(d.image.commit) and by_merge[d.image.commit].number not in taken)
    author = by_merge[again.image.commit].author
    world.deployments.append(
        Sync("web-prod", "prod", again.at + timedelta(hours=3), again.image, again.revision, f"{author}@acme.example")
    )
    where = (
        f"web-prod {again.at + timedelta(hours=3):%Y-%m-%d %H:%M}: {again.image.tag} synced again by hand by its author"
    )
    codes = ("author_deployed_own_change", "manual_sync")  # by hand: a manual sync too
    add(SeededCase("author-deployed", where, codes, app="web-prod", at=again.at + timedelta(hours=3)))


def _between(spare: list[Change], prod: list[Sync]) -> tuple[Change, Change]:
    """Two changes merged where no other web-prod deployment falls within a day, apart."""
    quiet = [c for c in spare if all(abs(d.at - c.merged_at) > timedelta(days=1) for d in prod)]
    return quiet[0], quiet[-1]


def _deploy(world: World, change: Change, commit: str, label: str, at: datetime) -> None:
    """Build an image from `commit` twenty minutes before `at`, and let Argo CD deploy it then."""
    image = Image(
        "acme/web", f"0.{change.number}.0-{label}", at - timedelta(minutes=20), commit, f"{FORGE_HOST}/acme/web"
    )
    world.images.append(image)
    world.deployments.append(Sync("web-prod", "prod", at, image, commit))
