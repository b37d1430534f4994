"""A fake GitHub repository harvested for real (PyGithub over HTTP), and deployments of its commits.

`ShopWorld` fills a `GitHubModel` with merged pull requests (by merge, squash or rebase, as each
says) and direct pushes, harvests it through the production path (pull requests with their
commits' authors and committers, reviews, protection, main's first-parent history), then appends
Argo CD syncs of chosen commits and judges them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from devkit.sandbox.github import DirectPush, FakeGitHub, GitHubModel, PullRequest, Review, fake_sha
from evidence.compliance.custody import Custody, build_custody
from evidence.readmodels.models import Deployment
from evidence.readmodels.projectors import project_pending
from evidence.sources.harvest import harvest_target
from evidence.sources.models import Source
from ledger.append import append_entries
from ledger.envelope import Record

TOKEN = "ghs_ancestry_test_token_789"
REPO = "acme/shop"
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
# The codes about how a commit reached the branch and who did what; other links are not at stake here.
AT_STAKE = {
    "deployed_before_merge",
    "intermediate_commit_deployed",
    "not_on_protected_branch",
    "direct_push_under_merge",
    "no_pull_request",
    "approver_committed",
    "author_merged_own_change",
    "author_deployed_own_change",
    "emergency_change",
    "insufficient_approvals",
    "self_approved",
    "protection_bypassed",
    "manual_sync",
}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopWorld:
    def __init__(self, monkeypatch: Any) -> None:
        self.model = GitHubModel(tokens={TOKEN})
        self.repo = self.model.add_repository(REPO)
        self.repo.protection["main"] = {"required_approving_review_count": 1, "dismiss_stale_reviews": True}
        self.server = FakeGitHub(self.model).start()
        monkeypatch.setenv("SHOP_GITHUB_TOKEN", TOKEN)
        self.source = Source.objects.create(
            name="shop-github",
            kind="github",
            url=self.server.url,
            credential_env="SHOP_GITHUB_TOKEN",
            config={"repositories": [REPO], "branches": ["main"], "seconds_between_requests": 0, "backoff_factor": 0},
        )
        self.n = 0

    def stop(self) -> None:
        self.server.stop()

    # --- the repository --------------------------------------------------------------------
    def pull(
        self,
        number: int,
        at: datetime,
        method: str = "merge",
        *,
        author: str = "alice",
        merged_by: str = "lead",
        approvers: tuple[str, ...] = ("bob",),
        approved_at: datetime | None = None,
        commits: int = 2,
        pushed_by: dict[int, str] | None = None,
    ) -> PullRequest:
        pull = self.model.add_merged_pull(
            REPO, number, author=author, merged_by=merged_by, merged_at=stamp(at), commits=commits
        )
        pull.created_at = stamp(at - timedelta(hours=1))  # its commits were written an hour before the merge
        pull.merge_method = method
        pull.pushed_by = {pull.commits[i]: who for i, who in (pushed_by or {}).items()}
        when = stamp(approved_at or at - timedelta(minutes=10))
        pull.reviews = [
            Review(number * 100 + i, who, "APPROVED", pull.head_sha, when) for i, who in enumerate(approvers)
        ]
        return pull

    def push(self, label: str, at: datetime, author: str = "mallory") -> str:
        sha = fake_sha(REPO, "direct", label)
        self.repo.pushes.append(DirectPush(sha, author, stamp(at)))
        return sha

    def rebased(self, number: int, i: int) -> str:
        """The SHA the rebase merge gave commit i of the pull request (the last one is its merge commit)."""
        return fake_sha(REPO, number, "rebased", i)

    def harvest(self) -> None:
        result = harvest_target(self.source, REPO)
        assert result.status == "succeeded", result.errors
        project_pending()

    # --- deployments -----------------------------------------------------------------------
    def deploy(self, sha: str, at: datetime, application: str = "shop", by: str = "") -> Deployment:
        """An Argo CD sync of `sha` to prod, automated unless `by` (a person) synced it by hand."""
        self.n += 1
        item = {
            "id": self.n,
            "revision": sha,
            "deployStartedAt": stamp(at),
            "deployedAt": stamp(at + timedelta(minutes=1)),
            "initiatedBy": {"username": by} if by else {"automated": True},
        }
        data = {"environment": "prod", "application": application, "history": item}
        key = f"argocd:history:{application}:{self.n}"
        append_entries([Record("argocd.deployment", "argo-prod", f"argocd:{application}", key, data, observed_at=at)])
        project_pending()
        return Deployment.objects.get(application=application, started_at=at)

    def judge(self, deployment: Deployment) -> tuple[list[str], Custody]:
        chain = build_custody(deployment)
        return sorted({f.code for f in chain.findings} & AT_STAKE), chain


def link(chain: Custody, name: str):  # type: ignore[no-untyped-def]
    return next(x for x in chain.links if x.name == name)
