"""Forge entries -> pull requests, commits, approvals, protection snapshots and observations.

Deterministic in the entries alone (times come from the entry, never the clock), so a replay
of the ledger by `rebuild_projections` gives the same rows.
"""

from __future__ import annotations

from typing import Any

from evidence.readmodels.models import (
    Approval,
    ProtectionObservation,
    ProtectionSnapshot,
    PullRequest,
    PullRequestCommit,
)
from evidence.readmodels.projectors import projection_model, projects
from evidence.sources.forges.common import parse_time
from ledger.models import Entry

for _model in (PullRequest, PullRequestCommit, Approval, ProtectionSnapshot, ProtectionObservation):
    projection_model(_model)


def _str(value: Any) -> str:
    return "" if value is None else str(value)


@projects("github.pull_request", "gitlab.merge_request")
def project_change(entry: Entry) -> None:
    data = entry.data
    forge = entry.kind.split(".")[0]
    number = int(data["number"] if "number" in data else data["iid"])  # GitLab calls it iid; 0 is a number
    pull, _ = PullRequest.objects.update_or_create(
        forge=forge,
        repository=data["repository"],
        number=number,
        defaults={
            "title": _str(data.get("title"))[:500],
            "url": _str(data.get("html_url") or data.get("web_url"))[:500],
            "author": _str(data.get("author")),
            "base": _str(data.get("base") or data.get("target_branch")),
            "head_sha": _str(data.get("head_sha")),
            "merge_commit_sha": _str(data.get("merge_commit_sha")),
            "squash_commit_sha": _str(data.get("squash_commit_sha")),
            "merged_at": parse_time(data.get("merged_at")),
            "merged_by": _str(data.get("merged_by")),
            "commits": list(data.get("commits") or []),
            "source": entry.source,
            "entry_seq": entry.seq,
        },
    )
    pull.commit_rows.all().delete()
    PullRequestCommit.objects.bulk_create(
        [
            PullRequestCommit(pull_request=pull, sha=sha, position=i, entry_seq=entry.seq)
            for i, sha in enumerate(dict.fromkeys(data.get("commits") or []))
        ]
    )
    # Reviews recorded before their pull request (a webhook-led order) are linked now.
    Approval.objects.filter(forge=forge, repository=pull.repository, number=number, pull_request=None).update(
        pull_request=pull
    )


def _change(forge: str, repository: str, number: int) -> PullRequest | None:
    return PullRequest.objects.filter(forge=forge, repository=repository, number=number).first()


def _sighting(row: Approval, entry: Entry, state: str, at: Any = None) -> None:
    """Add this entry to the row's history once (seq order is the ledger's, so replays agree)."""
    if any(item.get("seq") == entry.seq for item in row.history):
        return
    when = at or entry.observed_at
    row.history = [*row.history, {"seq": entry.seq, "at": when.isoformat(), "state": state}]


@projects("github.review")
def project_review(entry: Entry) -> None:
    data = entry.data
    repository, number = data["repository"], int(data["number"])
    state = _str(data.get("state")).upper()
    row = Approval.objects.filter(forge="github", repository=repository, number=number, review_id=str(data["id"]))
    review = row.first() or Approval(forge="github", repository=repository, number=number, review_id=str(data["id"]))
    review.pull_request = _change("github", repository, number)
    review.reviewer = _str(data.get("reviewer"))
    review.state = state
    review.commit_id = _str(data.get("commit_id"))
    review.submitted_at = parse_time(data.get("submitted_at"))
    review.entry_seq = entry.seq
    if state != "DISMISSED":
        review.submitted_state = state
    else:
        review.dismissed = True
    _sighting(review, entry, state)
    review.save()


@projects("github.review_dismissal")
def project_dismissal(entry: Entry) -> None:
    data = entry.data
    repository, number = data["repository"], int(data["number"])
    row, _ = Approval.objects.get_or_create(
        forge="github",
        repository=repository,
        number=number,
        review_id=str(data["review_id"]),
        defaults={
            "pull_request": _change("github", repository, number),
            "state": "DISMISSED",
            "commit_id": _str(data.get("dismissal_commit_id")),
            "entry_seq": entry.seq,
        },
    )
    row.dismissed = True
    row.dismissed_by = _str(data.get("dismissed_by"))
    row.dismissed_at = parse_time(data.get("dismissed_at"))
    row.dismissal_seq = entry.seq
    row.submitted_state = row.submitted_state or _str(data.get("review_state")).upper()
    _sighting(row, entry, "DISMISSED", row.dismissed_at)
    row.save()


@projects("gitlab.approval")
def project_gitlab_approvals(entry: Entry) -> None:
    """The approvals of a merge request as harvested: approvers no longer listed are revoked (at
    some time between the last harvest that listed them and this one)."""
    data = entry.data
    repository, number = data["repository"], int(data["iid"])
    pull = _change("gitlab", repository, number)
    current = set()
    for approver in data.get("approved_by") or []:
        username = _str(approver.get("username"))
        current.add(f"approval:{username}")
        row = Approval.objects.filter(
            forge="gitlab", repository=repository, number=number, review_id=f"approval:{username}"
        ).first() or Approval(forge="gitlab", repository=repository, number=number, review_id=f"approval:{username}")
        row.pull_request = pull
        row.reviewer = username
        row.state = row.submitted_state = "APPROVED"
        row.commit_id = _str(approver.get("commit_id"))
        row.submitted_at = parse_time(approver.get("approved_at"))
        row.dismissed, row.dismissed_by, row.dismissed_at, row.dismissal_seq = False, "", None, None
        row.entry_seq = entry.seq
        _sighting(row, entry, "APPROVED")
        row.save()
    stale = Approval.objects.filter(forge="gitlab", repository=repository, number=number, dismissed=False)
    for row in stale.exclude(review_id__in=current).order_by("id"):
        row.state, row.dismissed, row.dismissed_at, row.dismissal_seq = "REVOKED", True, entry.observed_at, entry.seq
        _sighting(row, entry, "REVOKED")
        row.save()


@projects("github.branch_protection", "gitlab.protected_branch")
def project_protection(entry: Entry) -> None:
    data = entry.data
    forge = entry.kind.split(".")[0]
    detail = {k: v for k, v in data.items() if k not in ("effective", "hash", "previous_hash", "repository", "branch")}
    ProtectionSnapshot.objects.create(
        forge=forge,
        repository=data["repository"],
        branch=data["branch"],
        observed_at=entry.observed_at,
        settings=data.get("effective") or {},
        detail=detail,
        content_hash=data["hash"],
        previous_hash=_str(data.get("previous_hash")),
        entry_seq=entry.seq,
    )


@projects("harvest.run")
def project_observations(entry: Entry) -> None:
    """Each forge harvest run says which branches it looked at: the coverage between snapshots."""
    data = entry.data
    if data.get("source_kind") not in ("github", "gitlab"):
        return
    observed = data.get("observed") or {}
    for branch, seen in sorted((observed.get("protection") or {}).items()):
        ProtectionObservation.objects.create(
            forge=data["source_kind"],
            repository=observed.get("repository") or data.get("target"),
            branch=branch,
            observed_at=entry.observed_at,
            content_hash=seen["hash"],
            changed=bool(seen.get("changed")),
            source=entry.source,
            entry_seq=entry.seq,
        )
