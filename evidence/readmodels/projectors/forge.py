"""Forge entries -> pull requests, commits, approvals, protection snapshots, observations and the
first-parent line of each watched branch.

Deterministic in the entries alone (times come from the entry, never the clock), so a replay
of the ledger by `rebuild_projections` gives the same rows.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max

from evidence.readmodels.models import (
    Approval,
    BranchCommit,
    ForgeHarvest,
    ProtectionObservation,
    ProtectionSnapshot,
    PullRequest,
    PullRequestCommit,
)
from evidence.readmodels.projectors import projection_model, projects
from evidence.sources import kinds
from evidence.sources.forges.base import Approvals, BranchHistory, Change, Dismissal, Protection
from ledger.models import Entry

for _model in (
    PullRequest,
    PullRequestCommit,
    Approval,
    ProtectionSnapshot,
    ProtectionObservation,
    BranchCommit,
    ForgeHarvest,
):
    projection_model(_model)
FORGE_SUBJECTS = ("github:", "gitlab:")  # harvest-run subjects of forge targets


@projects(*kinds.entry_kinds(Change))
def project_change(entry: Entry) -> None:
    forge, change = kinds.read_entry(entry.kind, entry.data)
    pull, _ = PullRequest.objects.update_or_create(
        forge=forge.name,
        repository=change.repository,
        number=change.number,
        defaults={
            "title": change.title[:500],
            "url": change.url[:500],
            "author": change.author,
            "base": change.base,
            "head_sha": change.head_sha,
            "merge_commit_sha": change.merge_commit_sha,
            "squash_commit_sha": change.squash_commit_sha,
            "merged_at": change.merged_at,
            "opened_at": change.opened_at,
            "merged_by": change.merged_by,
            "commits": list(change.commits),
            "source": entry.source,
            "entry_seq": entry.seq,
        },
    )
    pull.commit_rows.all().delete()
    details = {c.sha: c for c in change.commit_details}
    rows = []
    for i, sha in enumerate(dict.fromkeys(change.commits)):
        row = PullRequestCommit(pull_request=pull, sha=sha, position=i, entry_seq=entry.seq)
        found = details.get(sha.lower())
        if found is not None:
            row.author, row.author_email = found.author[:200], found.author_email[:300]
            row.committer, row.committer_email = found.committer[:200], found.committer_email[:300]
            row.authored_at = found.authored_at
        rows.append(row)
    PullRequestCommit.objects.bulk_create(rows)
    # Reviews recorded before their pull request (a webhook-led order) are linked now.
    Approval.objects.filter(forge=forge.name, repository=pull.repository, number=pull.number, pull_request=None).update(
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


@projects(*kinds.entry_kinds(Approvals))
def project_approvals(entry: Entry) -> None:
    """Reviews or approvals of a change, each sighting kept in the row's history (custody reads each
    reviewer's state at the merge). A complete list revokes the approvals it no longer names."""
    forge, found = kinds.read_entry(entry.kind, entry.data)
    key = {"forge": forge.name, "repository": found.repository, "number": found.number}
    pull = _change(**key)
    for approval in found.approvals:
        row = Approval.objects.filter(**key, review_id=approval.review_id).first()
        row = row or Approval(**key, review_id=approval.review_id)
        row.pull_request = pull
        row.reviewer = approval.reviewer
        row.state = approval.state
        row.commit_id = approval.commit_id
        row.submitted_at = approval.submitted_at
        row.entry_seq = entry.seq
        if found.complete:  # listed as standing now: whatever revoked it before no longer holds
            row.dismissed, row.dismissed_by, row.dismissed_at, row.dismissal_seq = False, "", None, None
        if approval.state == "DISMISSED":
            row.dismissed = True
        else:
            row.submitted_state = approval.state
        _sighting(row, entry, approval.state)
        row.save()
    if found.complete:
        stale = Approval.objects.filter(**key, dismissed=False)
        for row in stale.exclude(review_id__in=[a.review_id for a in found.approvals]).order_by("id"):
            row.state, row.dismissed, row.dismissed_at, row.dismissal_seq = (
                "REVOKED",
                True,
                entry.observed_at,
                entry.seq,
            )
            _sighting(row, entry, "REVOKED")
            row.save()


@projects(*kinds.entry_kinds(Dismissal))
def project_dismissal(entry: Entry) -> None:
    forge, dismissal = kinds.read_entry(entry.kind, entry.data)
    key = {"forge": forge.name, "repository": dismissal.repository, "number": dismissal.number}
    row, _ = Approval.objects.get_or_create(
        **key,
        review_id=dismissal.review_id,
        defaults={
            "pull_request": _change(**key),
            "state": "DISMISSED",
            "commit_id": dismissal.commit_id,
            "entry_seq": entry.seq,
        },
    )
    row.dismissed = True
    row.dismissed_by = dismissal.dismissed_by
    row.dismissed_at = dismissal.dismissed_at
    row.dismissal_seq = entry.seq
    row.submitted_state = row.submitted_state or dismissal.review_state
    _sighting(row, entry, "DISMISSED", row.dismissed_at)
    row.save()


@projects(*kinds.entry_kinds(Protection))
def project_protection(entry: Entry) -> None:
    forge, protection = kinds.read_entry(entry.kind, entry.data)
    ProtectionSnapshot.objects.create(
        forge=forge.name,
        repository=protection.repository,
        branch=protection.branch,
        observed_at=entry.observed_at,
        settings=protection.settings,
        detail=protection.detail,
        content_hash=protection.hash,
        previous_hash=protection.previous_hash,
        entry_seq=entry.seq,
    )


@projects("harvest.run")
def project_observations(entry: Entry) -> None:
    """Each forge harvest run says which branches it looked at: the coverage between snapshots."""
    data = entry.data
    if data.get("source_kind") not in kinds.FORGES:
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


@projects("harvest.run")
def project_forge_harvest(entry: Entry) -> None:
    """Each forge target's latest harvest run (highest seq, latest observed time), whatever its outcome."""
    if not entry.subject.startswith(FORGE_SUBJECTS):
        return
    row = ForgeHarvest.objects.filter(subject=entry.subject).first()
    if row is None:
        ForgeHarvest.objects.create(subject=entry.subject, last_seq=entry.seq, last_observed_at=entry.observed_at)
        return
    row.last_seq = max(row.last_seq, entry.seq)
    row.last_observed_at = max(row.last_observed_at, entry.observed_at)
    row.save(update_fields=["last_seq", "last_observed_at"])


@projects(*kinds.entry_kinds(BranchHistory))
def project_branch_history(entry: Entry) -> None:
    """Commits walked along a branch's first parents, appended to its line after those known."""
    forge, history = kinds.read_entry(entry.kind, entry.data)
    key = {"forge": forge.name, "repository": history.repository, "branch": history.branch}
    line = BranchCommit.objects.filter(**key)
    known = set(line.filter(sha__in=[c.sha for c in history.commits]).values_list("sha", flat=True))
    last = line.aggregate(last=Max("position"))["last"]
    position = -1 if last is None else last
    rows = []
    for commit in history.commits:
        if commit.sha in known:
            continue
        position += 1
        rows.append(
            BranchCommit(
                **key,
                sha=commit.sha,
                position=position,
                parents=list(commit.parents),
                author=commit.author[:200],
                author_email=commit.author_email[:300],
                committer=commit.committer[:200],
                committer_email=commit.committer_email[:300],
                authored_at=commit.authored_at,
                committed_at=commit.committed_at,
                observed_at=entry.observed_at,
                entry_seq=entry.seq,
            )
        )
    BranchCommit.objects.bulk_create(rows)
