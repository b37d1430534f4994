"""Deployments projected from controller entries (Argo CD, Flux) and running pods.

One deployment may be seen several times: by a harvest of the history, by the sync operation,
by a webhook delivery. Each sighting merges into the row with the same stable identity and adds
its entry seq, so a deployment seen both ways is one row citing both entries.

Argo CD identity: source + application + the time the sync started (history deployStartedAt ==
operationState.startedAt), which also covers failed syncs that never reach history.
Flux identity: Helm release version for HelmReleases; for Kustomizations, the episode of one
revision (history items and events for the same revision with no other revision in between).

After a change, the row and its successors are re-derived (`lineage.relink_from`): outcome
`rolled_back` (an older revision or digest set deployed again) and `running_since` (start of the
unbroken run of the same revision and digests); then the series' running intervals and the row's
commits (`intervals`).
"""

from __future__ import annotations

from evidence.readmodels.models import (
    DeployedApplication,
    Deployment,
    DeploymentCommit,
    DeploymentContainer,
    DeploymentGap,
    DeploymentImage,
    RunningInterval,
    WorkloadSnapshot,
)
from evidence.readmodels.projectors import projection_model

MODELS = (Deployment, DeploymentImage, DeploymentContainer, DeployedApplication, DeploymentGap, WorkloadSnapshot)
for _model in (*MODELS, RunningInterval, DeploymentCommit):
    projection_model(_model)

from evidence.readmodels.projectors.deployments import argocd, flux, gaps, images, pods  # noqa: E402  (registers)
from evidence.readmodels.projectors.deployments.pods import image_digest  # noqa: E402

__all__ = ["argocd", "flux", "gaps", "image_digest", "images", "pods"]
