"""Read models of forge evidence: pull/merge requests, reviews/approvals, protection over time.

Every row is derived from ledger entries by `evidence.readmodels.projectors.forge` and names the entry
(seq) that proves it; `rebuild_projections` clears and replays them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models

from evidence.sources.kinds import forge_choices, get_forge


class PullRequest(models.Model):
    """A merged pull request (GitHub) or merge request (GitLab), as last recorded."""

    forge = models.CharField(max_length=10, choices=forge_choices)  # evidence.sources.kinds
    repository = models.CharField(max_length=300, help_text="owner/repo or group/project")
    number = models.PositiveIntegerField(help_text="Pull request number or merge request iid")
    title = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=500, blank=True)
    author = models.CharField(max_length=200, blank=True)
    base = models.CharField(max_length=255, help_text="Base (target) branch")
    head_sha = models.CharField(max_length=64, blank=True, help_text="Head commit at merge")
    merge_commit_sha = models.CharField(max_length=64, blank=True)
    squash_commit_sha = models.CharField(max_length=64, blank=True)
    merged_at = models.DateTimeField(null=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="When it was opened (created_at)")
    merged_by = models.CharField(max_length=200, blank=True)
    commits = models.JSONField(default=list, help_text="Commit SHAs of the change, oldest first")
    source = models.CharField(max_length=200)
    entry_seq = models.BigIntegerField(help_text="Ledger entry of this record")

    class Meta:
        db_table = "evidence_pullrequest"  # kept from before the apps split
        ordering = ["-merged_at", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["forge", "repository", "number"], name="evidence_pr_unique"),
        ]
        indexes = [
            models.Index(fields=["merge_commit_sha"], name="evidence_pr_merge_sha"),
            models.Index(fields=["squash_commit_sha"], name="evidence_pr_squash_sha"),
            models.Index(fields=["head_sha"], name="evidence_pr_head_sha"),
            models.Index(fields=["repository", "base", "merged_at"], name="evidence_pr_repo_merged"),
            models.Index(fields=["url"], name="evidence_pr_url"),  # a chain's links name their pull request by URL
        ]

    def __str__(self) -> str:
        forge = get_forge(self.forge)
        return f"{self.forge}:{self.repository}{forge.change_mark if forge else '#'}{self.number}"


class PullRequestCommit(models.Model):
    """Commit -> the change that merged it (one row per SHA listed on the change)."""

    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="commit_rows")
    sha = models.CharField(max_length=64)
    position = models.PositiveIntegerField()
    # Who wrote and who committed (pushed) it: segregation of duties asks whether an approver did.
    author = models.CharField(max_length=200, blank=True, help_text="Forge account, else git author name")
    author_email = models.CharField(max_length=300, blank=True)
    committer = models.CharField(max_length=200, blank=True, help_text="Forge account, else git committer name")
    committer_email = models.CharField(max_length=300, blank=True)
    authored_at = models.DateTimeField(null=True, blank=True)
    entry_seq = models.BigIntegerField()

    class Meta:
        db_table = "evidence_pullrequestcommit"  # kept from before the apps split
        constraints = [models.UniqueConstraint(fields=["pull_request", "sha"], name="evidence_prcommit_unique")]
        indexes = [models.Index(fields=["sha"], name="evidence_prcommit_sha")]


class BranchCommit(models.Model):
    """A commit on the first-parent line of a watched (protected) branch: the branch was at it.

    `position` orders the line, oldest first; a harvest appends after the commits it knew. After
    a force push the old line's rows stay: the branch was at those commits once.
    """

    forge = models.CharField(max_length=10, choices=forge_choices)  # evidence.sources.kinds
    repository = models.CharField(max_length=300)
    branch = models.CharField(max_length=255)
    sha = models.CharField(max_length=64)
    position = models.PositiveIntegerField()
    parents = models.JSONField(default=list, help_text="Parent SHAs, the first parent first")
    author = models.CharField(max_length=200, blank=True)
    author_email = models.CharField(max_length=300, blank=True)
    committer = models.CharField(max_length=200, blank=True)
    committer_email = models.CharField(max_length=300, blank=True)
    authored_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    observed_at = models.DateTimeField(help_text="When a harvest first saw it on the branch")
    entry_seq = models.BigIntegerField()

    class Meta:
        ordering = ["forge", "repository", "branch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["forge", "repository", "branch", "sha"], name="branch_commit_unique"),
        ]
        indexes = [
            models.Index(fields=["sha"], name="branch_commit_sha"),
            models.Index(fields=["forge", "repository", "branch", "position"], name="branch_commit_line"),
        ]

    def __str__(self) -> str:
        return f"{self.forge}:{self.repository}@{self.branch} {self.sha[:12]}"


class Approval(models.Model):
    """A GitHub review or a GitLab approval, with the commit it was given on when known.

    `state` is the latest recorded; `submitted_state` what it was given as, and `history` every
    sighting (seq, observed time, state), so custody can tell what stood at a merge: a dismissal
    or revocation counts only when made (or, without its own time, first seen) before the merge.
    """

    forge = models.CharField(max_length=10, choices=forge_choices)  # evidence.sources.kinds
    repository = models.CharField(max_length=300)
    number = models.PositiveIntegerField()
    pull_request = models.ForeignKey(
        PullRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="approvals"
    )
    review_id = models.CharField(max_length=100, help_text="GitHub review id, or approval:<username> on GitLab")
    reviewer = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=30, help_text="APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, REVOKED")
    submitted_state = models.CharField(
        max_length=30, blank=True, help_text="The state it was given with (kept when it is later dismissed)"
    )
    history = models.JSONField(
        default=list, blank=True, help_text="Each entry that recorded it: {seq, at (observed), state}, in seq order"
    )
    commit_id = models.CharField(max_length=64, blank=True, help_text="'unknown' when the forge does not say")
    submitted_at = models.DateTimeField(null=True)
    dismissed = models.BooleanField(default=False)
    dismissed_by = models.CharField(max_length=200, blank=True)
    dismissed_at = models.DateTimeField(null=True)
    entry_seq = models.BigIntegerField(help_text="Ledger entry of the review/approval as last recorded")
    dismissal_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "evidence_approval"  # kept from before the apps split
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["forge", "repository", "number", "review_id"], name="evidence_approval_unique"
            ),
        ]
        indexes = [models.Index(fields=["forge", "repository", "number"], name="evidence_approval_change")]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.state} {self.repository}#{self.number}"


class ProtectionSnapshot(models.Model):
    """Branch protection as recorded when it was first seen or changed (one row per change)."""

    forge = models.CharField(max_length=10, choices=forge_choices)  # evidence.sources.kinds
    repository = models.CharField(max_length=300)
    branch = models.CharField(max_length=255)
    observed_at = models.DateTimeField()
    settings = models.JSONField(help_text="Effective settings; 'unknown' where the credential could not read")
    detail = models.JSONField(default=dict, help_text="What the forge sent, per part")
    content_hash = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64, blank=True)
    entry_seq = models.BigIntegerField()

    class Meta:
        db_table = "evidence_protectionsnapshot"  # kept from before the apps split
        ordering = ["observed_at", "entry_seq"]
        indexes = [
            models.Index(fields=["forge", "repository", "branch", "observed_at"], name="evidence_protsnap_at"),
        ]

    def __str__(self) -> str:
        return f"{self.forge}:{self.repository}@{self.branch} {self.observed_at:%Y-%m-%d %H:%M}"

    @classmethod
    def in_force(cls, forge: str, repository: str, branch: str, at: datetime) -> ProtectionAt:
        """Which protection was in force at `at`, and whether observations on both sides back it."""
        key = {"forge": forge, "repository": repository, "branch": branch}
        snapshot = cls.objects.filter(**key, observed_at__lte=at).order_by("-observed_at", "-entry_seq").first()
        observations = ProtectionObservation.objects.filter(**key)
        before = observations.filter(observed_at__lte=at).order_by("-observed_at", "-entry_seq").first()
        after = observations.filter(observed_at__gte=at).order_by("observed_at", "entry_seq").first()
        return ProtectionAt(snapshot, before, after)


class ProtectionObservation(models.Model):
    """One harvest looked at a branch's protection (changed or not): the coverage behind snapshots."""

    forge = models.CharField(max_length=10, choices=forge_choices)  # evidence.sources.kinds
    repository = models.CharField(max_length=300)
    branch = models.CharField(max_length=255)
    observed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    changed = models.BooleanField()
    source = models.CharField(max_length=200)
    entry_seq = models.BigIntegerField(help_text="The harvest-run entry")

    class Meta:
        db_table = "evidence_protectionobservation"  # kept from before the apps split
        ordering = ["observed_at", "entry_seq"]
        indexes = [
            models.Index(fields=["forge", "repository", "branch", "observed_at"], name="evidence_protobs_at"),
        ]


class ForgeHarvest(models.Model):
    """The latest harvest run of one forge target (subject `github:owner/name`, `gitlab:group/project`):
    its highest seq and latest observed time. Custody cites it when no run followed a deployment
    within days, without reading every run the ledger holds (one row per target, kept by the projector)."""

    subject = models.CharField(max_length=1024, unique=True)
    last_seq = models.BigIntegerField(help_text="The latest harvest-run entry of this subject")
    last_observed_at = models.DateTimeField(help_text="The latest observed time of its harvest runs")

    class Meta:
        ordering = ["subject"]
        indexes = [models.Index(fields=["last_observed_at"], name="forge_harvest_last_seen")]

    def __str__(self) -> str:
        return f"{self.subject} (last harvested {self.last_observed_at:%Y-%m-%d %H:%M})"


@dataclass(frozen=True)
class ProtectionAt:
    """The answer to "which protection was in force on this branch at T", with its proof."""

    snapshot: ProtectionSnapshot | None  # last recorded settings at or before T
    seen_before: ProtectionObservation | None  # last harvest that looked, at or before T
    seen_after: ProtectionObservation | None  # first harvest that looked, at or after T

    @property
    def backed(self) -> bool:
        """Observed with these settings on both sides of T (a gap shows as not backed)."""
        if self.snapshot is None or self.seen_before is None or self.seen_after is None:
            return False
        expected = self.snapshot.content_hash
        return self.seen_before.content_hash == expected and self.seen_after.content_hash == expected

    @property
    def unobserved_for(self) -> timedelta | None:
        """How long nobody looked around T: the time between the observations either side."""
        if self.seen_before is None or self.seen_after is None:
            return None
        return self.seen_after.observed_at - self.seen_before.observed_at

    @property
    def settings(self) -> dict[str, Any] | str:
        return self.snapshot.settings if self.snapshot else "unknown"

    @property
    def entry_seqs(self) -> list[int]:
        rows = (self.snapshot, self.seen_before, self.seen_after)
        return sorted({row.entry_seq for row in rows if row is not None})
