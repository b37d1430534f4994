"""What each live deployment shipped: the changes (pull/merge requests) new in it, each with its
first approval, so the DORA metrics read rows instead of re-deriving a year of history per call.

Derived only from other read models (deployments, pull requests and their commits, provenance,
approvals) by `evidence.readmodels.shipping`, a whole series (environment, application) at a
time, so the rows do not depend on the order entries were projected in; `rebuild_projections`
gives the same rows.
"""

from __future__ import annotations

from django.db import models

from .deployments import Deployment
from .forge import PullRequest


class ShippedChange(models.Model):
    """One change one live deployment shipped (docs/dora.md, "Which changes a deployment shipped")."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="shipped_changes")
    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(help_text="Order within the deployment: oldest merge first.")
    # copied from the deployment and the pull request, kept equal by the same refresh
    environment = models.CharField(max_length=100)
    application = models.CharField(max_length=200)
    deployed_at = models.DateTimeField(help_text="The deployment's finish.")
    forge = models.CharField(max_length=10)
    repository = models.CharField(max_length=300)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=500, blank=True)
    base = models.CharField(max_length=255)
    merged_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    entry_seq = models.BigIntegerField(help_text="The pull request's entry.")
    first_approval_at = models.DateTimeField(null=True, blank=True)
    first_approval_seq = models.BigIntegerField(null=True, blank=True)
    # Whole seconds (truncated toward zero), so a year of figures reads numbers, not times to subtract.
    # Null where a time is missing: no opened time (lead time not evidenced), no approval.
    lead_seconds = models.BigIntegerField(null=True, blank=True, help_text="Opened -> deployed.")
    review_seconds = models.BigIntegerField(null=True, blank=True, help_text="Opened -> merged.")
    delivery_seconds = models.BigIntegerField(help_text="Merged -> deployed.")
    approval_seconds = models.BigIntegerField(null=True, blank=True, help_text="Opened -> first approval.")
    approval_to_merge_seconds = models.BigIntegerField(null=True, blank=True, help_text="First approval -> merged.")

    class Meta:
        ordering = ["environment", "deployed_at", "deployment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "pull_request"], name="shipped_change_unique"),
        ]
        indexes = [
            # the metrics: an environment's (or application's) period, in deployment order
            models.Index(fields=["environment", "deployed_at"], name="shipped_env_deployed"),
            models.Index(fields=["environment", "application", "deployed_at"], name="shipped_env_app_deployed"),
            # which series a changed pull request or repository can alter
            models.Index(fields=["repository"], name="shipped_repository"),
            models.Index(fields=["pull_request"], name="shipped_pull"),
        ]

    def __str__(self) -> str:
        return f"{self.environment}/{self.application} {self.repository}#{self.number}"


class ShippingMark(models.Model):
    """What changed since the shipped rows were last derived: a series (`environment/application`),
    a pull request (id), a digest whose provenance changed, or a pull request's approvals. Written
    by the projectors in the transaction of the change, consumed after the projection run."""

    SCOPES = ("series", "pull", "digest", "approvals")

    scope = models.CharField(max_length=20, choices=[(s, s) for s in SCOPES])
    key = models.CharField(max_length=600)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="shipping_mark_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
