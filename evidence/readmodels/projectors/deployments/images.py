"""Which image digests a deployment deployed: named by the controller, or resolved from a tag.

A deployment's manifests (`argocd.manifests`) name images, often by tag alone. A tag resolves to
the digest the registry said it named when the sync started (the latest `oci.tags` sighting at
or before then: tags move, and a later sighting says nothing of the past), else to what the pods
ran: the first pods snapshot of the deployment's live interval (from its finish until the next
deployment of the application finished), whose containers name the same reference.

`resolve_images(row)` derives all of it from the rows as they stand, and is called for every row
whose inputs can have changed (its manifests, a tag sighting, a pods snapshot in its interval,
a neighbour's interval), so the result does not depend on the order entries are projected in:
a pods snapshot projected before the deployment it belongs to gives the same rows as after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from evidence.readmodels.models import Deployment, DeploymentContainer, DeploymentImage, TagSighting, WorkloadSnapshot
from evidence.readmodels.models.deployments import LIVE_OUTCOMES
from evidence.readmodels.projectors.deployments.intervals import refresh_intervals
from evidence.readmodels.projectors.deployments.lineage import relink_from
from evidence.readmodels.shipping import mark_series

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
DERIVED = ("registry", "pods")  # DeploymentImage origins this module derives (and may take back)


@dataclass(frozen=True)
class Reference:
    """An image reference split as registries see it: host/repository, tag, digest."""

    repository: str  # host/path, e.g. 127.0.0.1:5000/acme/payments or docker.io/library/nginx
    tag: str
    digest: str

    @property
    def registry(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def path(self) -> str:
        return self.repository.split("/", 1)[1] if "/" in self.repository else self.repository


def parse_reference(ref: str) -> Reference:
    """`[host/]path[:tag][@sha256:...]`, with Docker's defaults (docker.io, library/, latest)."""
    name, _, digest = ref.strip().partition("@")
    match = DIGEST.fullmatch(digest)
    last = name.rsplit("/", 1)[-1]
    tag = ""
    if ":" in last:
        name, _, tag = name.rpartition(":")
    first = name.split("/", 1)[0]
    if "/" not in name or not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name if '/' in name else 'library/' + name}"
    return Reference(name, tag or ("" if match else "latest"), match.group(0) if match else "")


def same_image(a: str, b: str) -> bool:
    """Two references to the same repository and tag (as pods' status may spell them otherwise)."""
    x, y = parse_reference(a), parse_reference(b)
    return (x.repository, x.tag) == (y.repository, y.tag)


def live_interval(row: Deployment) -> tuple[datetime | None, datetime | None]:
    """From the deployment's finish to the next finish of a deployment that took effect."""
    if row.finished_at is None or row.outcome not in LIVE_OUTCOMES:
        return None, None
    later = (
        Deployment.objects.filter(environment=row.environment, application=row.application, outcome__in=LIVE_OUTCOMES)
        .filter(Q(finished_at__gt=row.finished_at) | Q(finished_at=row.finished_at, id__gt=row.id))
        .order_by("finished_at", "id")
        .values_list("finished_at", flat=True)
        .first()
    )
    return row.finished_at, later


def first_snapshot(row: Deployment) -> WorkloadSnapshot | None:
    """The first pods snapshot of the row's live interval: what its rollout left running."""
    start, until = live_interval(row)
    if start is None:
        return None
    rows = WorkloadSnapshot.objects.filter(
        environment=row.environment, application=row.application, observed_at__gte=start
    )
    if until is not None:
        rows = rows.filter(observed_at__lt=until)
    return rows.order_by("observed_at", "entry_seq", "id").first()


def registry_digest(ref: Reference, at: datetime) -> TagSighting | None:
    """What the tag named at `at`, by the latest registry sighting at or before it."""
    if not ref.tag:
        return None
    rows = TagSighting.objects.filter(registry=ref.registry, repository=ref.path, tag=ref.tag, observed_at__lte=at)
    return rows.order_by("-observed_at", "-entry_seq").first()


def pods_digest(image: str, snapshot: WorkloadSnapshot | None) -> tuple[str, int] | None:
    if snapshot is None:
        return None
    for container in snapshot.images:
        digest = image_digest(container.get("imageID"))
        if digest and same_image(str(container.get("image") or ""), image):
            return digest, snapshot.entry_seq
    return None


def resolve_images(row: Deployment) -> None:
    """Re-derive the row's resolved digests (containers, DeploymentImage rows, image_digests, the
    entries cited) from what is projected now; save and re-link only when something changed."""
    if row.pk is None:
        return
    snapshot = first_snapshot(row)
    wanted: dict[str, tuple[str, str, int]] = {}  # digest -> (image, origin, seq), registry/pods only
    for container in row.containers.all():
        if container.resolved_by == "reference":
            continue
        found = _resolve(container.image, row.started_at, snapshot)
        digest, by, seq = found or ("", "", None)
        if (container.digest, container.resolved_by, container.resolved_seq) != (digest, by, seq):
            container.digest, container.resolved_by, container.resolved_seq = digest, by, seq
            container.save(update_fields=["digest", "resolved_by", "resolved_seq"])
        if digest and seq is not None:
            wanted.setdefault(digest, (container.image, by, seq))
    images = {i.digest: i for i in row.images.all()}
    named = {d for d, i in images.items() if i.origin not in DERIVED}
    if not named and not row.containers.exists() and snapshot is not None:
        # refs named by the controller's summary without a digest (or none at all): what ran
        refs = [r for r in row.image_refs if not DIGEST.search(r.partition("@")[2])]
        for container in snapshot.images:
            if container.get("sidecar") or container.get("type") == "ephemeral":
                continue  # a mesh proxy, a debugging session: not what the deployment rolled out
            digest = image_digest(container.get("imageID"))
            image = str(container.get("image") or "")
            if digest and (not row.image_refs or any(same_image(image, r) for r in refs)):
                wanted.setdefault(digest, (image, "pods", snapshot.entry_seq))
    before = {i.entry_seq for i in images.values() if i.origin in DERIVED}
    changed = False
    for digest, image in list(images.items()):
        if image.origin in DERIVED and (digest not in wanted or wanted[digest][1:] != (image.origin, image.entry_seq)):
            image.delete()
            del images[digest]
            changed = True
    for digest, (image, origin, seq) in sorted(wanted.items()):
        if digest not in images:
            images[digest] = DeploymentImage.objects.create(
                deployment=row, digest=digest, image=image, origin=origin, entry_seq=seq
            )
            changed = True
    derived_seqs = {i.entry_seq for i in images.values() if i.origin in DERIVED}
    cited = (set(row.entry_seqs) - before) | derived_seqs
    digests = sorted(images)
    if digests == row.image_digests and sorted(cited) == row.entry_seqs and not changed:
        return
    row.image_digests, row.entry_seqs = digests, sorted(cited)
    row.save(update_fields=["image_digests", "entry_seqs"])
    relink_from(row)
    refresh_intervals(row.environment, row.application)  # the intervals carry digests and running_since
    mark_series(row.environment, row.application)


def _resolve(image: str, at: datetime, snapshot: WorkloadSnapshot | None) -> tuple[str, str, int] | None:
    ref = parse_reference(image)
    sighting = registry_digest(ref, at)
    if sighting is not None:
        return sighting.digest, "registry", sighting.entry_seq
    ran = pods_digest(image, snapshot)
    if ran is not None:
        return ran[0], "pods", ran[1]
    return None


def resolve_around(row: Deployment) -> None:
    """The row, and the live deployment before it (whose interval the row may have cut short)."""
    resolve_images(row)
    when = row.finished_at or row.started_at
    before = (
        Deployment.objects.filter(environment=row.environment, application=row.application, outcome__in=LIVE_OUTCOMES)
        .filter(Q(finished_at__lt=when) | Q(finished_at=when, id__lt=row.id or 0))
        .order_by("-finished_at", "-id")
        .first()
    )
    if before is not None:
        resolve_images(before)


def live_at(environment: str, application: str, at: datetime) -> Deployment | None:
    """The deployment that had taken effect last at `at`."""
    return (
        Deployment.objects.filter(
            environment=environment, application=application, finished_at__lte=at, outcome__in=LIVE_OUTCOMES
        )
        .order_by("-finished_at", "-id")
        .first()
    )


def set_containers(row: Deployment, workloads: list[dict[str, Any]], seq: int) -> None:
    """The containers the manifests name (init containers too); digests in references at once."""
    if row.pk is None:
        row.save()
    for workload in workloads:
        where = f"{workload.get('kind')}/{workload.get('namespace')}/{workload.get('name')}"
        for item in workload.get("containers") or []:
            ref = parse_reference(str(item.get("image") or ""))
            digest = ref.digest
            container, _ = DeploymentContainer.objects.get_or_create(
                deployment=row,
                workload=where,
                container_type=str(item.get("type") or "container"),
                container=str(item.get("name") or ""),
                defaults={
                    "image": str(item.get("image") or ""),
                    "repository": ref.repository,
                    "tag": ref.tag,
                    "digest": digest,
                    "resolved_by": "reference" if digest else "",
                    "entry_seq": seq,
                },
            )
            if digest:
                DeploymentImage.objects.get_or_create(
                    deployment=row,
                    digest=digest,
                    defaults={"image": container.image, "origin": "controller", "entry_seq": seq},
                )
    refs = sorted({*row.image_refs, *(str(c.get("image")) for w in workloads for c in w.get("containers") or [])})
    row.image_refs = refs
    row.image_digests = sorted({*row.image_digests, *(i.digest for i in row.images.all())})


def image_digest(image_id: Any) -> str | None:
    """The registry digest in a containerStatuses[].imageID (`repo@sha256:...`); None for local ids."""
    if not isinstance(image_id, str) or "@" not in image_id:
        return None
    match = DIGEST.fullmatch(image_id.rpartition("@")[2])
    return match.group(0) if match else None
