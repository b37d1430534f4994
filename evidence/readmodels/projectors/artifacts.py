"""oci.* entries -> Artifact, SignatureVerdict and Provenance rows (each citing its entry seq)."""

from __future__ import annotations

from evidence.readmodels.models import Artifact, Provenance, SignatureVerdict
from evidence.readmodels.projectors import projection_model, projects
from ledger.models import Entry

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
