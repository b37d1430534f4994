"""Read models of change policy, risk acceptances and findings.

Policy and RiskAcceptance rows are projected from `policy.version` and `finding.acceptance`
ledger entries (see `evidence.compliance.projectors`); every version of a policy is an entry, so a
deployment is judged by the version in force when it happened.

Finding and verdict rows are a stored judgement, not evidence: `evidence.compliance.judgement`
recomputes them from the chain of custody (itself read from projection rows) after each
projection run, for the deployments the new entries touch, replacing those deployments' rows.
They are a pure function of the ledger's content, so `rebuild_projections` (which clears them
with the other read models and replays) gives the same rows; each cites the entry seqs behind
it. Storing them (rather than computing on every request) keeps `GET /findings/` filterable and
paginated in SQL, and keeps reads read-only. The status (open/accepted) depends on the clock (an
acceptance runs until a date), so only the
acceptance is stored and the status is decided when read.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models

SEVERITIES = [("high", "high"), ("medium", "medium"), ("low", "low")]


class Policy(models.Model):
    """One version of an environment's change policy, as proposed in the ledger; it is in force only
    once a second engineer approved it (`approval_seq`)."""

    environment = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    min_approvals = models.PositiveIntegerField(
        help_text="Approvals on the merged head by people other than the author"
    )
    require_signature = models.BooleanField(help_text="Images must carry a verified signature")
    trusted_signers = models.JSONField(default=list, blank=True, help_text="Signers trusted here; empty: any verified")
    require_provenance = models.BooleanField()
    trusted_builders = models.JSONField(default=list, blank=True, help_text="Builder ids trusted; empty: any verified")
    protection = models.JSONField(
        default=dict, blank=True, help_text="Branch protection required: {setting: value}, e.g. dismiss_stale_reviews"
    )
    effective_at = models.DateTimeField(help_text="In force from this time until the next version")
    recorded_by = models.CharField(max_length=150, help_text="Who proposed it")
    content_hash = models.CharField(max_length=64)
    entry_seq = models.BigIntegerField(unique=True, help_text="The proposal's entry")
    approved_by = models.CharField(max_length=150, blank=True, help_text="The second engineer; empty: pending")
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_seq = models.BigIntegerField(null=True, blank=True, help_text="The approval's entry")

    class Meta:
        db_table = "evidence_policy"  # kept from before the apps split
        ordering = ["environment", "-effective_at", "-entry_seq"]
        verbose_name_plural = "policies"
        indexes = [models.Index(fields=["environment", "effective_at"], name="policy_env_effective")]

    def __str__(self) -> str:
        return f"{self.environment} policy v{self.version}"


class RiskAcceptance(models.Model):
    """An engineer proposed accepting the risk of one finding (who, why, until when); it takes effect
    only once a different engineer approved it (`approval_seq`)."""

    finding_key = models.CharField(max_length=64, db_index=True)
    code = models.CharField(max_length=60)
    accepted_by = models.CharField(max_length=150, help_text="Who proposed it")
    reason = models.TextField()
    until = models.DateTimeField()
    accepted_at = models.DateTimeField(help_text="When it was proposed")
    entry_seq = models.BigIntegerField(unique=True, help_text="The proposal's entry")
    approved_by = models.CharField(max_length=150, blank=True, help_text="The second engineer; empty: pending")
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_seq = models.BigIntegerField(null=True, blank=True, help_text="The approval's entry")

    class Meta:
        db_table = "evidence_riskacceptance"  # kept from before the apps split
        ordering = ["-accepted_at", "-entry_seq"]

    def __str__(self) -> str:
        approved = f", approved by {self.approved_by}" if self.approval_seq is not None else " (pending approval)"
        return f"{self.code} proposed by {self.accepted_by}{approved} until {self.until:%Y-%m-%d}"


class Finding(models.Model):
    """A violated or not-evidenced link of a deployment's chain of custody, judged by the policy in
    force then; `controls` names the requirements it bears on."""

    key = models.CharField(max_length=64, unique=True, help_text="Stable: hash of deployment identity, code, subject")
    deployment = models.ForeignKey("readmodels.Deployment", on_delete=models.CASCADE, related_name="findings")
    environment = models.CharField(max_length=100)
    application = models.CharField(max_length=200)
    deployed_at = models.DateTimeField()
    code = models.CharField(max_length=60)
    severity = models.CharField(max_length=10, choices=SEVERITIES)
    subject = models.CharField(max_length=500, blank=True, help_text="What it is about: a digest, a PR, a branch")
    repository = models.CharField(max_length=300, blank=True)
    explanation = models.TextField()
    controls = models.JSONField(default=list)
    entry_seqs = models.JSONField(default=list)
    policy_seq = models.BigIntegerField(null=True, blank=True, help_text="Policy version judged by (none: baseline)")
    accepted_until = models.DateTimeField(null=True, blank=True)
    accepted_by = models.CharField(max_length=150, blank=True, help_text="Who proposed the acceptance in force")
    acceptance_approved_by = models.CharField(max_length=150, blank=True, help_text="Who approved it")
    acceptance_reason = models.TextField(blank=True)
    acceptance_seq = models.BigIntegerField(null=True, blank=True, help_text="The proposal's entry")
    acceptance_approval_seq = models.BigIntegerField(null=True, blank=True, help_text="The approval's entry")

    class Meta:
        db_table = "evidence_finding"  # kept from before the apps split
        ordering = ["-deployed_at", "deployment_id", "code", "subject"]
        indexes = [
            models.Index(fields=["environment", "deployed_at"], name="finding_env_at"),
            models.Index(fields=["code", "deployed_at"], name="finding_code_at"),
            models.Index(fields=["repository", "deployed_at"], name="finding_repo_at"),
            # The admin's list in its order (the ordering, then -id as the changelist adds): a page
            # reads its 50 rows off the index instead of sorting every finding.
            models.Index(fields=["-deployed_at", "deployment_id", "code", "subject", "-id"], name="finding_list"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.environment}/{self.application} {self.subject}"

    def status_at(self, now: datetime) -> str:
        return "accepted" if self.accepted_until is not None and self.accepted_until > now else "open"


VERDICT_CHOICES = [(v, v) for v in ("compliant", "exception", "incomplete", "attempt")]


class DeploymentVerdict(models.Model):
    """The verdict on one deployment, stored beside its findings (same judgement, same rebuild):
    compliant, exception (a violation, open or accepted), incomplete evidence, or attempt (a sync
    that failed or never finished, never judged). Lets lists and period figures count in SQL."""

    deployment = models.OneToOneField(
        "readmodels.Deployment", on_delete=models.CASCADE, related_name="verdict_row", primary_key=True
    )
    environment = models.CharField(max_length=100)
    application = models.CharField(max_length=200)
    deployed_at = models.DateTimeField()
    verdict = models.CharField(max_length=20, choices=VERDICT_CHOICES)
    reason = models.TextField(help_text="The verdict in one sentence")
    policy_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-deployed_at"]
        indexes = [
            models.Index(fields=["environment", "deployed_at"], name="verdict_env_at"),
            # The dashboard's default period and its list of quarters: the first and last judged deployment.
            models.Index(fields=["deployed_at"], name="verdict_at"),
        ]

    def __str__(self) -> str:
        return f"{self.environment}/{self.application} {self.verdict}"


class JudgeCursor(models.Model):
    """The last ledger seq whose entries findings were re-judged for (cleared by a rebuild, after
    which every deployment is judged again)."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=-1)
