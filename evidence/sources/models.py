"""Sources, harvest runs and cursors: operational state, not evidence (that is in the ledger)."""

from __future__ import annotations

from typing import Any

from django.db import models

from evidence.core.secrets import read_secret


class Source(models.Model):
    """Where evidence comes from. Credentials are never stored: only the variable that holds one."""

    name = models.SlugField(max_length=100, unique=True)
    # One of evidence.sources.kinds.KINDS, checked where sources are declared (the sources file, the
    # admin form): the registry imports the harvesters, which import this module, so no choices here.
    kind = models.CharField(max_length=20, help_text="A kind of evidence.sources.kinds (github, gitlab, oci, ...).")
    url = models.URLField(max_length=500, blank=True)
    credential_env = models.CharField(
        max_length=100, blank=True, help_text="Name of the environment variable (or VAR_FILE) holding the credential."
    )
    environment = models.CharField(max_length=100, blank=True, help_text="Environment everything it reports maps to.")
    config = models.JSONField(
        default=dict,
        blank=True,
        help_text="What to watch (repositories, projects, images, applications, namespaces), environment rules, "
        "trusted_keys, trusted_identities, webhook secret variable.",
    )
    schedule = models.PositiveIntegerField(default=3600, help_text="Seconds between scheduled harvests.")
    enabled = models.BooleanField(default=True)
    from_file = models.BooleanField(default=False, editable=False, help_text="Declared in EVIDENCE_SOURCES_FILE.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "evidence_source"  # kept from before the apps split
        ordering = ["name"]
        permissions = [("harvest_source", "Can start a harvest of the source now")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def credential(self) -> str:
        """The credential from the environment (VAR, or the file named by VAR_FILE); '' if none."""
        return read_secret(self.credential_env)

    def setting(self, name: str, default: Any = None) -> Any:
        return self.config.get(name, default)


class HarvestRun(models.Model):
    """One harvest of one target of a source: what was asked, what came back, what failed."""

    STATUSES = [(s, s) for s in ("running", "succeeded", "failed", "partial")]

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="runs")
    target = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default="running")
    requests = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0, help_text="Records the harvester returned.")
    appended = models.PositiveIntegerField(default=0, help_text="New ledger entries (repeats excluded).")
    errors = models.JSONField(default=list, blank=True)
    entry_key = models.CharField(max_length=512, blank=True, help_text="Idempotency key of the harvest-run entry.")

    class Meta:
        db_table = "evidence_harvestrun"  # kept from before the apps split
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "target", "-started_at"], name="evidence_run_recent")]

    def __str__(self) -> str:
        return f"{self.source.name}:{self.target} {self.status}"

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class HarvestCursor(models.Model):
    """Where the last successful harvest of a target stopped (ETags, since-times, last ids)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="cursors")
    target = models.CharField(max_length=500)
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "evidence_harvestcursor"  # kept from before the apps split
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="evidence_cursor_unique")]
