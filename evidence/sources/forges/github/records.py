"""GitHub's ledger payloads, both ways: built from what the REST API sends (by the harvester),
and read back into forge-neutral records (by the projector, through the registry).

The builders fix what a `github.*` entry holds, so its idempotency key (a digest of it) stays the
same for the same upstream facts.
"""

from __future__ import annotations

from typing import Any

from evidence.core.times import parse_time
from evidence.sources.forges.base import (
    Approval,
    Approvals,
    BranchHistory,
    Change,
    Dismissal,
    Normaliser,
    Protection,
    text,
)
from evidence.sources.forges.common import commit_payload, login, pick, read_commit, read_history, read_snapshot

COMMITS_LIMIT = 250  # GitHub lists at most 250 commits of a pull request


# --- API -> ledger payload ------------------------------------------------------------------


def commit_json(raw: dict[str, Any]) -> dict[str, Any]:
    """A commit as the commits APIs list it: the GitHub accounts where linked, else the git names."""
    # Reference: https://docs.github.com/en/rest/commits/commits#list-commits
    git = raw.get("commit") or {}
    author, committer = git.get("author") or {}, git.get("committer") or {}
    return commit_payload(
        raw["sha"],
        [p["sha"] for p in raw.get("parents") or []],
        (login(raw.get("author")) or author.get("name"), author.get("email")),
        (login(raw.get("committer")) or committer.get("name"), committer.get("email")),
        author.get("date"),
        committer.get("date"),
    )


def pull_request_payload(
    repository: str,
    raw: dict[str, Any],
    merged_by: str | None,
    commits: list[str],
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A `github.pull_request` payload from a pull request as listed or got; `details`: its commits
    as `commit_json` gives them (who authored and who committed each)."""
    # Reference: https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
    return {
        "repository": repository,
        **pick(raw, "number", "id", "title", "html_url", "state", "created_at", "closed_at", "merged_at"),
        "author": login(raw.get("user")),
        "base": raw["base"]["ref"],
        "base_sha": raw["base"].get("sha"),
        "head_ref": raw["head"].get("ref"),
        "head_sha": raw["head"]["sha"],
        "merge_commit_sha": raw.get("merge_commit_sha"),
        "merged": raw.get("merged_at") is not None,
        "merged_by": merged_by,
        "commits": commits,
        "commits_complete": len(commits) < COMMITS_LIMIT,
        **({"commit_details": details} if details is not None else {}),
    }


def review_payload(repository: str, number: int, review: dict[str, Any]) -> dict[str, Any]:
    """A `github.review` payload from one review of the pull request."""
    # Reference: https://docs.github.com/en/rest/pulls/reviews#list-reviews-for-a-pull-request
    return {
        "repository": repository,
        "number": number,
        "id": review["id"],
        "reviewer": login(review.get("user")),
        "state": review.get("state"),
        "commit_id": review.get("commit_id"),
        **pick(review, "submitted_at", "author_association", "body", "html_url"),
    }


def dismissal_payload(repository: str, number: int, event: dict[str, Any]) -> dict[str, Any]:
    """A `github.review_dismissal` payload from a `review_dismissed` issue event."""
    # Reference: https://docs.github.com/en/rest/using-the-rest-api/issue-event-types#review_dismissed
    dismissed = event.get("dismissed_review") or {}
    return {
        "repository": repository,
        "number": number,
        "event_id": event["id"],
        "review_id": dismissed.get("review_id"),
        "dismissed_by": login(event.get("actor")),
        "dismissed_at": event.get("created_at"),
        "message": dismissed.get("dismissal_message"),
        "review_state": dismissed.get("state"),
        "dismissal_commit_id": dismissed.get("dismissal_commit_id"),
    }


# --- ledger payload -> forge-neutral record -------------------------------------------------------


def read_pull_request(data: dict[str, Any]) -> Change:
    return Change(
        repository=data["repository"],
        number=int(data["number"]),
        title=text(data.get("title")),
        url=text(data.get("html_url")),
        author=text(data.get("author")),
        base=text(data.get("base")),
        head_sha=text(data.get("head_sha")),
        merge_commit_sha=text(data.get("merge_commit_sha")),
        squash_commit_sha=text(data.get("squash_commit_sha")),  # GitHub records none: '' as before
        merged_at=parse_time(data.get("merged_at"), to_utc=True),
        merged_by=text(data.get("merged_by")),
        commits=tuple(data.get("commits") or []),
        commit_details=tuple(read_commit(c) for c in data.get("commit_details") or []),
        opened_at=parse_time(data.get("created_at"), to_utc=True, lenient=True),
    )


def read_review(data: dict[str, Any]) -> Approvals:
    """One review adds to (or replaces) what is known of the pull request's reviews."""
    review = Approval(
        review_id=str(data["id"]),
        reviewer=text(data.get("reviewer")),
        state=text(data.get("state")).upper(),
        commit_id=text(data.get("commit_id")),
        submitted_at=parse_time(data.get("submitted_at"), to_utc=True),
    )
    return Approvals(data["repository"], int(data["number"]), (review,), complete=False)


def read_dismissal(data: dict[str, Any]) -> Dismissal:
    return Dismissal(
        repository=data["repository"],
        number=int(data["number"]),
        review_id=str(data["review_id"]),
        dismissed_by=text(data.get("dismissed_by")),
        dismissed_at=parse_time(data.get("dismissed_at"), to_utc=True),
        commit_id=text(data.get("dismissal_commit_id")),
        review_state=text(data.get("review_state")).upper(),
    )


NORMALISERS: dict[str, Normaliser[Any]] = {
    "github.pull_request": Normaliser(Change, read_pull_request),
    "github.review": Normaliser(Approvals, read_review),
    "github.review_dismissal": Normaliser(Dismissal, read_dismissal),
    "github.branch_protection": Normaliser(Protection, read_snapshot),
    "github.branch_history": Normaliser(BranchHistory, read_history),
}
