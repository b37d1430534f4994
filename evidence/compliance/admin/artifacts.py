"""OCI read models in the admin: images, signature verdicts, provenance. Read-only."""

from __future__ import annotations

from django.contrib import admin

from evidence.core.admin_base import ProjectionAdmin
from evidence.readmodels.models import Artifact, Provenance, SignatureVerdict


@admin.register(Artifact)
class ArtifactAdmin(ProjectionAdmin):
    list_display = ["repository", "registry", "digest", "tags", "media_type", "entry_seq"]
    list_filter = ["registry"]
    search_fields = ["=digest", "repository"]
    show_full_result_count = False


@admin.register(SignatureVerdict)
class SignatureVerdictAdmin(ProjectionAdmin):
    list_display = ["digest", "repository", "verdict", "signer", "signature_kind", "observed_at", "entry_seq"]
    list_filter = ["verdict", "signature_kind"]
    search_fields = ["=digest", "repository", "signer"]
    show_full_result_count = False


@admin.register(Provenance)
class ProvenanceAdmin(ProjectionAdmin):
    list_display = ["digest", "source_repo", "source_commit", "builder_id", "verdict", "observed_at", "entry_seq"]
    list_filter = ["verdict"]
    search_fields = ["=digest", "=source_commit", "source_repo", "builder_id"]
    show_full_result_count = False
