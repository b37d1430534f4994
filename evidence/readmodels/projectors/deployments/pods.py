"""Running pods: what runs, and the digests that deployments naming tags resolve to."""

from __future__ import annotations

from typing import Any

from evidence.core.times import parse_time
from evidence.readmodels.models import Deployment, WorkloadSnapshot
from evidence.readmodels.projectors import projects
from evidence.readmodels.projectors.deployments.rows import DIGEST, add_digests, save_row
from ledger.models import Entry


@projects("kubernetes.pods")
def project_pods(entry: Entry) -> None:
    """Record what runs, and resolve the live deployment's images to the digests actually running."""
    data = entry.data
    observed = parse_time(entry.envelope["observed_at"], lenient=True)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pod in data.get("pods") or []:
        for container in pod.get("containers") or []:
            item = {"pod": pod.get("name"), **container}
            groups.setdefault((pod["environment"], pod["application"]), []).append(item)
    for (environment, application), containers in sorted(groups.items()):
        digests = sorted({d for c in containers if (d := image_digest(c.get("imageID")))})
        WorkloadSnapshot.objects.get_or_create(
            entry_seq=entry.seq,
            environment=environment,
            application=application,
            namespace=str(data.get("namespace") or ""),
            defaults={"source": entry.source, "observed_at": observed, "images": containers, "digests": digests},
        )
        live = (
            Deployment.objects.filter(environment=environment, application=application, finished_at__lte=observed)
            .filter(outcome__in=("succeeded", "degraded", "rolled_back"))
            .order_by("-finished_at", "-id")
            .first()
        )
        if live is None or live.image_digests:
            continue  # nothing to resolve, or the controller named digests (drift shows in running_at)
        refs = set(live.image_refs)
        found = [(d, str(c.get("image"))) for c in containers if (d := image_digest(c.get("imageID")))]
        if refs:
            found = [(d, image) for d, image in found if image in refs]
        if found:
            add_digests(live, found, "pods", entry.seq)
            save_row(live, entry)


def image_digest(image_id: Any) -> str | None:
    """The registry digest in a containerStatuses[].imageID (`repo@sha256:...`); None for local ids."""
    if not isinstance(image_id, str) or "@" not in image_id:
        return None
    match = DIGEST.fullmatch(image_id.rpartition("@")[2])
    return match.group(0) if match else None
