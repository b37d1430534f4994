"""Deployments read model: what GitOps controllers rolled out where, and what ran.

Every row is projected from ledger entries (see `evidence.readmodels.projectors.deployments`) and lists the
seqs of the entries that prove it; `rebuild_projections` recreates the same rows.
"""

from __future__ import annotations

from django.db import models

OUTCOMES = ("succeeded", "failed", "degraded", "rolled_back", "in_progress")
# Outcomes after which the deployed revision is what runs (a failed sync leaves the previous one).
LIVE_OUTCOMES = ("succeeded", "degraded", "rolled_back")


class Deployment(models.Model):
    """One rollout of one application into one environment by one controller."""

    identity = models.CharField(max_length=600, unique=True, help_text="Stable identity across harvest and webhook.")
    controller = models.CharField(max_length=20)  # argocd, flux
    source = models.CharField(max_length=100)
    subject = models.CharField(max_length=500, help_text="Controller object, e.g. argocd:payments.")
    environment = models.CharField(max_length=100)
    application = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, blank=True, help_text="History id, Helm release version, digest.")
    revision = models.CharField(max_length=500, blank=True)
    image_refs = models.JSONField(default=list, blank=True, help_text="Images as the controller named them.")
    image_digests = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    running_since = models.DateTimeField(
        null=True, blank=True, help_text="Start of the unbroken run of this revision and digest set."
    )
    outcome = models.CharField(max_length=20, choices=[(o, o) for o in OUTCOMES])
    phase = models.CharField(max_length=100, blank=True, help_text="Controller's own status words.")
    health = models.CharField(max_length=50, blank=True)
    initiated_by = models.CharField(max_length=200, blank=True)
    automated = models.BooleanField(null=True)
    message = models.TextField(blank=True)
    entry_seqs = models.JSONField(default=list)
    first_seq = models.BigIntegerField()

    class Meta:
        db_table = "evidence_deployment"  # kept from before the apps split
        ordering = ["-started_at", "-id"]
        indexes = [
            # running_at: per (environment, application), the latest finished at or before T.
            # (id breaks ties in the ORDER BY, so the probe needs no sort step.)
            models.Index(fields=["environment", "application", "finished_at", "id"], name="deploy_env_app_finished"),
            models.Index(fields=["environment", "finished_at"], name="deploy_env_finished"),
            # custody: an application's deployments started shortly before one (its predecessor).
            models.Index(fields=["environment", "application", "started_at", "id"], name="deploy_env_app_started"),
            models.Index(fields=["subject", "started_at"], name="deploy_subject_started"),
            models.Index(fields=["revision"], name="deploy_revision"),
            # The admin's list, newest first: read backwards, a page stops after its rows.
            models.Index(fields=["started_at", "id"], name="deploy_started"),
        ]

    def __str__(self) -> str:
        return f"{self.environment}/{self.application} {self.revision[:12]} {self.outcome}"


class DeploymentImage(models.Model):
    """One image digest of a deployment, for lookups by digest (custody, API filters)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="images")
    digest = models.CharField(max_length=100, db_index=True)
    image = models.CharField(max_length=500, blank=True, help_text="Reference the digest was found under.")
    origin = models.CharField(max_length=20, help_text="controller (named by it) or pods (seen running).")
    entry_seq = models.BigIntegerField()

    class Meta:
        db_table = "evidence_deploymentimage"  # kept from before the apps split
        constraints = [models.UniqueConstraint(fields=["deployment", "digest"], name="deploy_image_unique")]

    def __str__(self) -> str:
        return self.digest


class DeploymentContainer(models.Model):
    """One container (or init container) the deployment's manifests name, and the digest its image
    reference resolved to: in the reference itself, from the registry's tag as it stood when the
    sync started, or from the pods that ran it."""

    RESOLVERS = ("reference", "registry", "pods", "")

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="containers")
    workload = models.CharField(max_length=300, help_text="Kind/namespace/name of the object with the pod spec.")
    container = models.CharField(max_length=200)
    container_type = models.CharField(max_length=20, help_text="container or init")
    image = models.CharField(max_length=500, help_text="Reference as the manifests name it.")
    repository = models.CharField(max_length=400, blank=True, help_text="host/repository of the reference.")
    tag = models.CharField(max_length=200, blank=True)
    digest = models.CharField(max_length=100, blank=True, help_text="Empty: not resolved (unknown).")
    resolved_by = models.CharField(max_length=20, blank=True, choices=[(r, r) for r in RESOLVERS])
    entry_seq = models.BigIntegerField(help_text="The argocd.manifests entry naming the container.")
    resolved_seq = models.BigIntegerField(null=True, blank=True, help_text="The entry that resolved the tag.")

    class Meta:
        ordering = ["deployment", "workload", "container_type", "container"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "workload", "container_type", "container"], name="deploy_container_unique"
            )
        ]
        indexes = [models.Index(fields=["repository", "tag"], name="deploy_container_tag")]

    def __str__(self) -> str:
        return f"{self.container} {self.image}"


class DeployedApplication(models.Model):
    """Each (environment, application) ever deployed: the outer loop of the running-at query."""

    environment = models.CharField(max_length=100)
    application = models.CharField(max_length=200)
    first_finished_at = models.DateTimeField()

    class Meta:
        db_table = "evidence_deployedapplication"  # kept from before the apps split
        constraints = [
            models.UniqueConstraint(fields=["environment", "application"], name="deployed_app_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.environment}/{self.application}"


class RunningInterval(models.Model):
    """How long a deployment was the one running: from when it took effect (finished, live outcome)
    until the next such deployment of its application in its environment did (null: still running).

    Derived only from Deployment rows (`projectors.deployments.intervals`), so projecting entries in
    any order, or a rebuild, gives the same rows. Running-at answers "at T" from these rows alone: on
    PostgreSQL a GiST index on (environment, [started, ended)) finds every application's interval
    in one index scan (migration 0004_running_intervals), and the answer's columns are copied here
    so that scan reads the few pages written around T, not one page of deployments per application.
    """

    environment = models.CharField(max_length=100)
    application = models.CharField(max_length=200)
    deployment = models.OneToOneField(Deployment, on_delete=models.CASCADE, related_name="running_interval")
    started = models.DateTimeField(help_text="The deployment's finish: when it took effect.")
    ended = models.DateTimeField(null=True, blank=True, help_text="When the next deployment took effect.")
    # copied from the deployment, kept equal by the same refresh
    revision = models.CharField(max_length=500, blank=True)
    image_digests = models.JSONField(default=list, blank=True)
    running_since = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20)
    controller = models.CharField(max_length=20)
    entry_seqs = models.JSONField(default=list)

    class Meta:
        ordering = ["environment", "application", "started"]
        indexes = [
            # per application, the interval started by T (SQLite's plan; the next and previous one)
            models.Index(
                fields=["environment", "application", "started", "deployment"], name="running_env_app_started"
            ),
            # `env#N` / `env~N`: the environment's snapshots in order
            models.Index(fields=["environment", "started", "deployment"], name="running_env_started"),
            # the current state of an environment: the intervals still open
            models.Index(
                fields=["environment", "application"], condition=models.Q(ended__isnull=True), name="running_now"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.environment}/{self.application} from {self.started:%Y-%m-%d %H:%M}"


class DeploymentCommit(models.Model):
    """The Git commit a deployment's revision names, normalised to its SHA (Argo CD revisions, one per
    source of a multi-source application; Flux `main@sha1:<sha>`), for search by commit prefix."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sha", "deployment"], name="deploy_commit_unique")]

    def __str__(self) -> str:
        return self.sha


class DeploymentGap(models.Model):
    """Controller history that rolled over between harvests and that no webhook delivery covered."""

    controller = models.CharField(max_length=20)
    source = models.CharField(max_length=100)
    subject = models.CharField(max_length=500)
    environment = models.CharField(max_length=100)
    application = models.CharField(max_length=200)
    missing = models.JSONField(default=list, help_text="History ids (or revisions) never seen.")
    after = models.DateTimeField(null=True, blank=True, help_text="Last deployment known before the gap.")
    before = models.DateTimeField(null=True, blank=True, help_text="First deployment known after the gap.")
    entry_seq = models.BigIntegerField(unique=True)

    class Meta:
        db_table = "evidence_deploymentgap"  # kept from before the apps split
        ordering = ["-entry_seq"]
        indexes = [models.Index(fields=["environment", "application"], name="deploy_gap_env_app")]

    def __str__(self) -> str:
        return f"gap {self.environment}/{self.application} {self.missing}"


class WorkloadSnapshot(models.Model):
    """Image digests seen running (pods' containerStatuses) for one application at one time."""

    source = models.CharField(max_length=100)
    environment = models.CharField(max_length=100)
    application = models.CharField(max_length=200)
    namespace = models.CharField(max_length=200)
    observed_at = models.DateTimeField()
    images = models.JSONField(default=list, help_text="[{image, digest, pod, container}] as reported.")
    digests = models.JSONField(default=list)
    entry_seq = models.BigIntegerField()

    class Meta:
        db_table = "evidence_workloadsnapshot"  # kept from before the apps split
        ordering = ["-observed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry_seq", "environment", "application", "namespace"], name="workload_snapshot_unique"
            )
        ]
        indexes = [models.Index(fields=["environment", "application", "observed_at"], name="workload_env_app_seen")]

    def __str__(self) -> str:
        return f"{self.environment}/{self.application} @ {self.observed_at:%Y-%m-%d %H:%M}"
