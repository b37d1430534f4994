"""Ready-made organisations for the fake forges: the benchmark's and the demo's starting point.

Each merged change has its approvals on its head commit and main is protected, so a harvest of
these gives a clean chain of custody; tests and the demo then break it on purpose where they want.
"""

from __future__ import annotations

from devkit.sandbox.github import GitHubModel, Review
from devkit.sandbox.gitlab import GitLabModel


def stamp(n: int) -> str:
    """A spread of merge times over three months, distinct per change within a repository."""
    return f"2026-0{1 + n % 3}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:{n // 60 % 60:02d}Z"


def github_organisation(
    token: str, *, org: str = "acme", repos: int = 3, pulls: int = 10, reviews: int = 2
) -> GitHubModel:
    model = GitHubModel(tokens={token})
    for r in range(repos):
        name = f"{org}/service-{r:02d}"
        repo = model.add_repository(name)
        repo.protection["main"] = {
            "required_approving_review_count": min(reviews, 2),
            "dismiss_stale_reviews": True,
            "enforce_admins": True,
        }
        for n in range(1, pulls + 1):
            pull = model.add_merged_pull(name, n, author=f"dev{n % 7}", merged_by=f"lead{n % 3}", merged_at=stamp(n))
            pull.reviews = [Review(n * 10 + k, f"rev{k}", "APPROVED", pull.head_sha, stamp(n)) for k in range(reviews)]
    return model


def gitlab_group(
    token: str, *, group: str = "acme/platform", repos: int = 3, pulls: int = 10, reviews: int = 2
) -> GitLabModel:
    model = GitLabModel(tokens={token})
    for r in range(repos):
        path = f"{group}/service-{r:02d}"
        project = model.add_project(path)
        project.protected_branches.append({"name": "main", "push": [0], "merge": [40]})
        project.approval_rules.append(
            {"name": "reviewers", "approvals_required": min(reviews, 2), "users": [f"rev{k}" for k in range(reviews)]}
        )
        for n in range(1, pulls + 1):
            approvers = tuple(f"rev{k}" for k in range(reviews))
            model.add_merged_request(
                path, n, author=f"dev{n % 7}", merged_by=f"lead{n % 3}", merged_at=stamp(n), approvers=approvers
            )
    return model
