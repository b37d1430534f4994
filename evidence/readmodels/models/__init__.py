"""Read models: rows derived from ledger entries, each citing the seq of the entry behind it."""

from .artifacts import Artifact, Provenance, SignatureVerdict
from .deployments import (
    DeployedApplication,
    Deployment,
    DeploymentCommit,
    DeploymentGap,
    DeploymentImage,
    RunningInterval,
    WorkloadSnapshot,
)
from .forge import Approval, ProtectionObservation, ProtectionSnapshot, PullRequest, PullRequestCommit
from .projection import ProjectionCursor, ProjectionError

__all__ = ["ProjectionCursor", "ProjectionError"]
__all__ += ["Artifact", "Provenance", "SignatureVerdict"]
__all__ += ["DeployedApplication", "Deployment", "DeploymentCommit", "DeploymentGap", "DeploymentImage"]
__all__ += ["RunningInterval", "WorkloadSnapshot"]
__all__ += ["Approval", "ProtectionObservation", "ProtectionSnapshot", "PullRequest", "PullRequestCommit"]
