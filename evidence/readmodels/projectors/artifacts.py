"""oci.* entries -> Artifact, SignatureVerdict and Provenance rows (each citing its entry seq)."""

from __future__ import annotations

from evidence.core.times import parse_time
from evidence.readmodels.models import (
    Artifact,
    Deployment,
    DeploymentContainer,
    Provenance,
    SignatureVerdict,
    TagSighting,
)
from evidence.readmodels.projectors import projection_model, projects
from evidence.readmodels.projectors.deployments.images import resolve_images
from ledger.models import Entry

projection_model(TagSighting)
projection_model(Artifact)
projection_model(SignatureVerdict)
projection_model(Provenance)


@projects("oci.artifact")
def project_artifact(entry: Entry) -> None:
    data = entry.data
    row, created = Artifact.objects.get_or_create(
        registry=data["registry"],
        repository=data["repository"],
        digest=data["digest"],
        defaults={
            "media_type": data.get("media_type", ""),
            "tags": sorted(set(data.get("tags") or [])),
            "first_seq": entry.seq,
            "entry_seq": entry.seq,
        },
    )
    if created or entry.seq <= row.entry_seq:
        return  # a replay of an entry already applied
    row.tags = sorted(set(row.tags) | set(data.get("tags") or []))
    row.media_type = data.get("media_type") or row.media_type
    row.entry_seq = entry.seq
    row.save(update_fields=["tags", "media_type", "entry_seq"])


@projects("oci.tags")
def project_tags(entry: Entry) -> None:
    """What each tag named when the registry was read; deployments naming those tags re-resolve."""
    data = entry.data
    observed = parse_time(entry.envelope["observed_at"], lenient=True)
    registry, repository = str(data.get("registry") or ""), str(data.get("repository") or "")
    tags = data.get("tags") if isinstance(data.get("tags"), dict) else {}
    for tag, digest in sorted(tags.items()):
        TagSighting.objects.get_or_create(
            entry_seq=entry.seq,
            tag=tag,
            defaults={
                "registry": registry,
                "repository": repository,
                "digest": str(digest),
                "observed_at": observed,
            },
        )
    named = DeploymentContainer.objects.filter(repository=f"{registry}/{repository}", tag__in=sorted(tags))
    for row in Deployment.objects.filter(id__in=named.values("deployment_id")).order_by("id"):
        resolve_images(row)


@projects("oci.signature")
def project_signature(entry: Entry) -> None:
    data = entry.data
    SignatureVerdict.objects.get_or_create(
        entry_seq=entry.seq,
        defaults={
            "registry": data["registry"],
            "repository": data["repository"],
            "digest": data["digest"],
            "verdict": data["verdict"],
            "signer": data.get("signer", "")[:500],
            "reason": data.get("reason", ""),
            "signature_kind": data.get("signature_kind", ""),
            "discovery": data.get("discovery", ""),
            "manifest_digest": data.get("manifest_digest", ""),
            "observed_at": entry.observed_at,
        },
    )


@projects("oci.provenance")
def project_provenance(entry: Entry) -> None:
    data = entry.data
    provenance = data.get("provenance") or {}
    Provenance.objects.get_or_create(
        entry_seq=entry.seq,
        defaults={
            "registry": data.get("registry", ""),
            "repository": data.get("repository", ""),
            "digest": data["digest"],
            "predicate_type": provenance.get("predicate_type", "") or data.get("predicate_type", ""),
            "builder_id": provenance.get("builder_id", "")[:500],
            "build_type": provenance.get("build_type", "")[:500],
            "source_repo": provenance.get("source_repo", "")[:500],
            "source_commit": provenance.get("source_commit", "")[:64],
            "source_ref": provenance.get("source_ref", "")[:255],
            "invocation_id": provenance.get("invocation_id", "")[:500],
            "verdict": data["verdict"],
            "signer": data.get("signer", "")[:500],
            "reason": data.get("reason", ""),
            "observed_at": entry.observed_at,
        },
    )
