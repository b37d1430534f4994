"""GitLab's ledger payloads, both ways: built from what the REST API sends (by the harvester),
and read back into forge-neutral records (by the projector, through the registry).

The builders fix what a `gitlab.*` entry holds, so its idempotency key (a digest of it) stays the
same for the same upstream facts.
"""

from __future__ import annotations

from typing import Any

from evidence.core.times import parse_time
from evidence.sources.forges.base import Approval, Approvals, BranchHistory, Change, Normaliser, Protection, text
from evidence.sources.forges.common import (
    UNKNOWN,
    commit_payload,
    login,
    pick,
    read_commit,
    read_history,
    read_snapshot,
)

# --- API -> ledger payload ------------------------------------------------------------------


def commit_json(raw: dict[str, Any]) -> dict[str, Any]:
    """A commit as GitLab lists it: git names and e-mails (GitLab links no account to a commit)."""
    # Reference: https://docs.gitlab.com/api/commits/#list-repository-commits
    return commit_payload(
        raw["id"],
        list(raw.get("parent_ids") or []),
        (raw.get("author_name"), raw.get("author_email")),
        (raw.get("committer_name"), raw.get("committer_email")),
        raw.get("authored_date"),
        raw.get("committed_date"),
    )


def merge_request_payload(
    repository: str, raw: dict[str, Any], commits: list[str], details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A `gitlab.merge_request` payload from a merge request as listed; commits oldest first, and
    `details` the same commits as `commit_json` gives them."""
    # Reference: https://docs.gitlab.com/api/merge_requests/#get-single-mr
    return {
        "repository": repository,
        **pick(raw, "iid", "id", "title", "web_url", "state", "created_at", "merged_at", "squash"),
        "author": login(raw.get("author")),
        "base": raw.get("target_branch"),
        "source_branch": raw.get("source_branch"),
        "head_sha": raw.get("sha"),
        "merge_commit_sha": raw.get("merge_commit_sha"),
        "squash_commit_sha": raw.get("squash_commit_sha"),
        "merged_by": login(raw.get("merge_user")) or login(raw.get("merged_by")),
        "commits": commits,
        **({"commit_details": details} if details is not None else {}),
    }


def approval_payload(
    repository: str,
    raw: dict[str, Any],
    approvals: dict[str, Any],
    approval_state: Any,
    approved_at: dict[str, str],
    resets: bool,
) -> dict[str, Any]:
    """A `gitlab.approval` payload: the approvals standing on the merge request `raw`.

    GitLab does not say which commit an approval was given on. When approvals reset on push
    (`resets`), an approval still standing at merge was given on the merged head. `approved_at`:
    when each user last approved, from the system notes, for instances that omit `approved_at`.
    """
    # Reference: https://docs.gitlab.com/api/merge_request_approvals/#for-a-merge-request
    approved_by = []
    for item in approvals.get("approved_by") or []:
        username = login(item.get("user"))
        approved_by.append(
            {
                "username": username,
                "approved_at": item.get("approved_at") or approved_at.get(username or ""),
                "commit_id": raw.get("sha") if resets else UNKNOWN,
                "commit_id_basis": "reset_approvals_on_push" if resets else UNKNOWN,
            }
        )
    return {
        "repository": repository,
        "iid": raw["iid"],
        "head_sha": raw.get("sha"),
        **pick(approvals, "approvals_required", "approvals_left", "approved"),
        "approved_by": approved_by,
        "approval_state": approval_state,
    }


# --- ledger payload -> forge-neutral record -------------------------------------------------------


def read_merge_request(data: dict[str, Any]) -> Change:
    return Change(
        repository=data["repository"],
        number=int(data["iid"]),
        title=text(data.get("title")),
        url=text(data.get("web_url")),
        author=text(data.get("author")),
        base=text(data.get("base") or data.get("target_branch")),
        head_sha=text(data.get("head_sha")),
        merge_commit_sha=text(data.get("merge_commit_sha")),
        squash_commit_sha=text(data.get("squash_commit_sha")),
        merged_at=parse_time(data.get("merged_at"), to_utc=True),
        merged_by=text(data.get("merged_by")),
        commits=tuple(data.get("commits") or []),
        commit_details=tuple(read_commit(c) for c in data.get("commit_details") or []),
        opened_at=parse_time(data.get("created_at"), to_utc=True, lenient=True),
    )


def read_approval(data: dict[str, Any]) -> Approvals:
    """The approvals standing when harvested: approvers no longer listed have revoked theirs."""
    approvals = []
    for approver in data.get("approved_by") or []:
        username = text(approver.get("username"))
        approvals.append(
            Approval(
                review_id=f"approval:{username}",
                reviewer=username,
                state="APPROVED",
                commit_id=text(approver.get("commit_id")),
                submitted_at=parse_time(approver.get("approved_at"), to_utc=True),
            )
        )
    return Approvals(data["repository"], int(data["iid"]), tuple(approvals), complete=True)


NORMALISERS: dict[str, Normaliser[Any]] = {
    "gitlab.merge_request": Normaliser(Change, read_merge_request),
    "gitlab.approval": Normaliser(Approvals, read_approval),
    "gitlab.protected_branch": Normaliser(Protection, read_snapshot),
    "gitlab.branch_history": Normaliser(BranchHistory, read_history),
}
