"""Read models of OCI artifacts: images seen, signature verdicts, provenance. Projected from
`oci.*` entries; every row names the entry seq that proves it."""

from __future__ import annotations

from django.db import models

VERDICTS = [
    (v, v)
    for v in ("verified", "untrusted_signer", "invalid_signature", "digest_mismatch", "no_signature", "fetch_failed")
]


class Artifact(models.Model):
    """An image digest in a repository, with every tag it was seen under."""

    registry = models.CharField(max_length=255)
    repository = models.CharField(max_length=255)
    digest = models.CharField(max_length=71, db_index=True)
    media_type = models.CharField(max_length=255, blank=True)
    tags = models.JSONField(default=list, blank=True)
    first_seq = models.BigIntegerField(help_text="Seq of the first oci.artifact entry for this digest.")
    entry_seq = models.BigIntegerField(help_text="Seq of the latest oci.artifact entry for this digest.")

    class Meta:
        db_table = "evidence_artifact"  # kept from before the apps split
        ordering = ["registry", "repository", "digest"]
        constraints = [
            models.UniqueConstraint(fields=["registry", "repository", "digest"], name="evidence_artifact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}@{self.digest}"


class TagSighting(models.Model):
    """What a tag named when a registry harvest looked (an `oci.tags` entry): tags move, so a
    deployment naming a tag resolves to the digest of the latest sighting at or before its start."""

    registry = models.CharField(max_length=255)
    repository = models.CharField(max_length=255)
    tag = models.CharField(max_length=200)
    digest = models.CharField(max_length=71)
    observed_at = models.DateTimeField()
    entry_seq = models.BigIntegerField()

    class Meta:
        ordering = ["registry", "repository", "tag", "observed_at"]
        constraints = [models.UniqueConstraint(fields=["entry_seq", "tag"], name="tag_sighting_unique")]
        indexes = [models.Index(fields=["registry", "repository", "tag", "observed_at"], name="tag_sighting_when")]

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag} -> {self.digest[:19]}"


class SignatureVerdict(models.Model):
    """One signature (or its absence) on a digest, as judged at harvest time."""

    registry = models.CharField(max_length=255)
    repository = models.CharField(max_length=255)
    digest = models.CharField(max_length=71, db_index=True)
    verdict = models.CharField(max_length=20, choices=VERDICTS)
    signer = models.CharField(max_length=500, blank=True, help_text="Trusted key/identity, or the untrusted signer.")
    reason = models.TextField(blank=True)
    signature_kind = models.CharField(max_length=40, blank=True)
    discovery = models.CharField(max_length=40, blank=True, help_text="signature-tag, referrers-api, tag-schema ...")
    manifest_digest = models.CharField(max_length=71, blank=True)
    observed_at = models.DateTimeField()
    entry_seq = models.BigIntegerField(unique=True)

    class Meta:
        db_table = "evidence_signatureverdict"  # kept from before the apps split
        ordering = ["digest", "entry_seq"]

    def __str__(self) -> str:
        return f"{self.digest} {self.verdict}"


class ProvenanceQuerySet(models.QuerySet["Provenance"]):
    def produced(self, digest: str) -> ProvenanceQuerySet:
        """Which source commit and builder produced digest: verified statements, newest first."""
        return self.filter(digest=digest, verdict="verified").order_by("-entry_seq")


class Provenance(models.Model):
    """A provenance statement (SLSA v1 / v0.2) about a digest, with its verdict."""

    registry = models.CharField(max_length=255, blank=True)
    repository = models.CharField(max_length=255, blank=True)
    digest = models.CharField(max_length=71, db_index=True)
    predicate_type = models.CharField(max_length=255, blank=True)
    builder_id = models.CharField(max_length=500, blank=True)
    build_type = models.CharField(max_length=500, blank=True)
    source_repo = models.CharField(max_length=500, blank=True)
    source_commit = models.CharField(max_length=64, blank=True, db_index=True)
    source_ref = models.CharField(max_length=255, blank=True)
    invocation_id = models.CharField(max_length=500, blank=True)
    verdict = models.CharField(max_length=20, choices=VERDICTS)
    signer = models.CharField(max_length=500, blank=True)
    reason = models.TextField(blank=True)
    observed_at = models.DateTimeField()
    entry_seq = models.BigIntegerField(unique=True)

    objects = ProvenanceQuerySet.as_manager()

    class Meta:
        db_table = "evidence_provenance"  # kept from before the apps split
        ordering = ["digest", "entry_seq"]
        verbose_name_plural = "provenance"
        indexes = [models.Index(fields=["digest", "verdict"], name="evidence_prov_digest_verdict")]

    def __str__(self) -> str:
        return f"{self.digest} from {self.source_repo}@{self.source_commit[:12]} ({self.verdict})"
