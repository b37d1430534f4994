"""Read models: rows derived from ledger entries, each citing the seq of the entry behind it."""

from .artifacts import Artifact, Provenance, SignatureVerdict, TagSighting
from .deployments import (
    DeployedApplication,
    Deployment,
    DeploymentContainer,
    DeploymentGap,
    DeploymentImage,
    WorkloadSnapshot,
)
from .forge import Approval, ProtectionObservation, ProtectionSnapshot, PullRequest, PullRequestCommit
from .projection import ProjectionCursor, ProjectionError

__all__ = ["ProjectionCursor", "ProjectionError"]
__all__ += ["Artifact", "Provenance", "SignatureVerdict", "TagSighting"]
__all__ += ["DeployedApplication", "Deployment", "DeploymentContainer", "DeploymentGap", "DeploymentImage"]
__all__ += ["WorkloadSnapshot"]
__all__ += ["Approval", "ProtectionObservation", "ProtectionSnapshot", "PullRequest", "PullRequestCommit"]
