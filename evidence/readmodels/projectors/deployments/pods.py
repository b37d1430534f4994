"""Running pods: what runs, and the digests that deployments naming tags resolve to.

A snapshot belongs to whichever deployment was live at the snapshot's time; the digests it shows
are attached by `images.resolve_images`, which derives them from the rows as they stand, so the
same rows come out whichever of the deployment and the snapshot is projected first.
"""

from __future__ import annotations

from typing import Any

from evidence.core.times import parse_time
from evidence.readmodels.models import WorkloadSnapshot
from evidence.readmodels.projectors import projects
from evidence.readmodels.projectors.deployments.images import image_digest, live_at, resolve_images
from ledger.models import Entry

__all__ = ["image_digest", "project_pods"]


@projects("kubernetes.pods")
def project_pods(entry: Entry) -> None:
    """Record what runs (every container, init and ephemeral ones too), then re-derive the images
    of the deployment live when the snapshot was taken."""
    data = entry.data
    observed = parse_time(entry.envelope["observed_at"], lenient=True)
    if observed is None:
        return
    sidecars = data.get("expected_sidecars") or {}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pod in data.get("pods") or []:
        expected = set(sidecars.get(pod["environment"]) or [])
        for container in pod.get("containers") or []:
            item = {"pod": pod.get("name"), "pod_started_at": pod.get("started_at"), **container}
            item.setdefault("type", "container")
            if container.get("name") in expected:
                item["sidecar"] = True  # declared by the environment (a mesh proxy): not the deployment's
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
        live = live_at(environment, application, observed)
        if live is not None:
            resolve_images(live)
