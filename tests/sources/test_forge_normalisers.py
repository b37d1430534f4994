"""A GitHub pull request and a GitLab merge request describing the same change read into the same
forge-neutral record: from the API's shape, through the ledger payload the harvester records.

The API objects below keep the shape (nesting and field names) of the upstream examples
(GitHub's pull-request.json and pull-request-review.json, GitLab's merge-request-merged.json and
merge-request-approvals.json), with one made-up change in both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from evidence.sources import kinds
from evidence.sources.forges.base import Approval, Approvals, Change, Dismissal, Protection
from evidence.sources.forges.github.records import dismissal_payload, pull_request_payload, review_payload
from evidence.sources.forges.gitlab.records import approval_payload, merge_request_payload

HEAD = "e82eb4a098e32c796079ca3915e07487fc4db24c"
FIRST = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
MERGE = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
MERGED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
APPROVED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

GITHUB_PULL = {  # GET /repos/{owner}/{repo}/pulls/{number}
    "url": "https://api.github.com/repos/acme/payments/pulls/42",
    "id": 1,
    "html_url": "https://github.com/acme/payments/pull/42",
    "number": 42,
    "state": "closed",
    "locked": False,
    "title": "Refund in the customer's currency",
    "user": {"login": "alice", "id": 1, "type": "User", "site_admin": False},
    "body": "Please pull these awesome changes",
    "created_at": "2026-03-01T18:00:00Z",
    "updated_at": "2026-03-02T10:00:00Z",
    "closed_at": "2026-03-02T10:00:00Z",
    "merged_at": "2026-03-02T10:00:00Z",
    "merge_commit_sha": MERGE,
    "head": {"label": "acme:refunds", "ref": "refunds", "sha": HEAD, "user": {"login": "alice"}},
    "base": {"label": "acme:main", "ref": "main", "sha": FIRST, "user": {"login": "acme"}},
    "merged": True,
    "merged_by": {"login": "bob", "id": 2, "type": "User", "site_admin": False},
    "commits": 2,
}
GITHUB_REVIEW = {  # GET /repos/{owner}/{repo}/pulls/{number}/reviews
    "id": 80,
    "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=",
    "user": {"login": "carol", "id": 3, "type": "User", "site_admin": False},
    "body": "Here is the body for the review.",
    "state": "APPROVED",
    "html_url": "https://github.com/acme/payments/pull/42#pullrequestreview-80",
    "pull_request_url": "https://api.github.com/repos/acme/payments/pulls/42",
    "submitted_at": "2026-03-02T09:30:00Z",
    "commit_id": HEAD,
    "author_association": "COLLABORATOR",
}
GITLAB_MERGE_REQUEST = {  # GET /projects/:id/merge_requests/:iid
    "id": 155016530,
    "iid": 42,
    "project_id": 15513260,
    "title": "Refund in the customer's currency",
    "description": "",
    "state": "merged",
    "created_at": "2026-03-01T18:00:00.000Z",
    "updated_at": "2026-03-02T10:00:00.000Z",
    "merged_by": {"id": 2, "username": "bob", "name": "Bob", "state": "active"},
    "merge_user": {"id": 2, "username": "bob", "name": "Bob", "state": "active"},
    "merged_at": "2026-03-02T10:00:00.000Z",
    "closed_by": None,
    "closed_at": None,
    "target_branch": "main",
    "source_branch": "refunds",
    "author": {"id": 1, "username": "alice", "name": "Alice", "state": "active"},
    "squash": False,
    "sha": HEAD,
    "merge_commit_sha": MERGE,
    "squash_commit_sha": None,
    "web_url": "https://gitlab.com/acme/payments/-/merge_requests/42",
}
GITLAB_APPROVALS = {  # GET /projects/:id/merge_requests/:iid/approvals
    "id": 155016530,
    "iid": 42,
    "project_id": 15513260,
    "title": "Refund in the customer's currency",
    "state": "merged",
    "approvals_required": 1,
    "approvals_left": 0,
    "approved_by": [{"user": {"name": "Carol", "username": "carol", "id": 3, "state": "active"}}],
}


def test_it_reads_a_pull_request_and_a_merge_request_into_the_same_change():
    github = pull_request_payload("acme/payments", GITHUB_PULL, "bob", [FIRST, HEAD])
    gitlab = merge_request_payload("acme/payments", GITLAB_MERGE_REQUEST, [FIRST, HEAD])

    _, from_github = kinds.read_entry("github.pull_request", github)
    _, from_gitlab = kinds.read_entry("gitlab.merge_request", gitlab)

    expected = Change(
        repository="acme/payments",
        number=42,
        title="Refund in the customer's currency",
        url="https://github.com/acme/payments/pull/42",
        author="alice",
        base="main",
        head_sha=HEAD,
        merge_commit_sha=MERGE,
        squash_commit_sha="",
        merged_at=MERGED_AT,
        merged_by="bob",
        commits=(FIRST, HEAD),
        opened_at=datetime(2026, 3, 1, 18, 0, tzinfo=UTC),
    )
    assert from_github == expected
    assert from_gitlab == replace(expected, url="https://gitlab.com/acme/payments/-/merge_requests/42")


def test_it_reads_a_review_and_an_approval_into_the_same_approval():
    github = review_payload("acme/payments", 42, GITHUB_REVIEW)
    # GitLab's approvals say neither when nor on which commit: the notes and reset-on-push do.
    gitlab = approval_payload(
        "acme/payments", GITLAB_MERGE_REQUEST, GITLAB_APPROVALS, "unknown", {"carol": "2026-03-02T09:30:00Z"}, True
    )

    _, from_github = kinds.read_entry("github.review", github)
    _, from_gitlab = kinds.read_entry("gitlab.approval", gitlab)

    approval = Approval(review_id="80", reviewer="carol", state="APPROVED", commit_id=HEAD, submitted_at=APPROVED_AT)
    assert from_github == Approvals("acme/payments", 42, (approval,), complete=False)
    assert from_gitlab == Approvals(
        "acme/payments", 42, (replace(approval, review_id="approval:carol"),), complete=True
    )


def test_it_reads_an_approval_whose_commit_gitlab_does_not_say_as_unknown():
    gitlab = approval_payload("acme/payments", GITLAB_MERGE_REQUEST, GITLAB_APPROVALS, "unknown", {}, False)

    _, found = kinds.read_entry("gitlab.approval", gitlab)

    assert [(a.reviewer, a.commit_id, a.submitted_at) for a in found.approvals] == [("carol", "unknown", None)]


def test_it_reads_a_dismissal_and_both_forges_protection_snapshots():
    event = {  # GET /repos/{owner}/{repo}/issues/{number}/events, a review_dismissed event
        "id": 6430295168,
        "event": "review_dismissed",
        "actor": {"login": "dave"},
        "created_at": "2026-03-02T09:45:00Z",
        "dismissed_review": {
            "state": "approved",
            "review_id": 80,
            "dismissal_message": "stale",
            "dismissal_commit_id": HEAD,
        },
    }
    _, dismissal = kinds.read_entry("github.review_dismissal", dismissal_payload("acme/payments", 42, event))
    assert dismissal == Dismissal(
        "acme/payments", 42, "80", "dave", datetime(2026, 3, 2, 9, 45, tzinfo=UTC), HEAD, review_state="APPROVED"
    )

    settings = {"protected": True, "required_approvals": 1}
    for kind, part in (("github.branch_protection", "classic"), ("gitlab.protected_branch", "protected_branch")):
        data = {"repository": "acme/payments", "branch": "main", "previous_hash": None, "hash": "h1"}
        forge, found = kinds.read_entry(kind, data | {part: {"name": "main"}, "effective": settings})
        assert forge.name == kind.split(".")[0]
        assert found == Protection("acme/payments", "main", settings, {part: {"name": "main"}}, "h1", "")
