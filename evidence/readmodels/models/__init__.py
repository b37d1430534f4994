"""Read models: rows derived from ledger entries, each citing the seq of the entry behind it."""

from .artifacts import Artifact, Provenance, SignatureVerdict, TagSighting
from .deployments import (
    DeployedApplication,
    Deployment,
    DeploymentCommit,
    DeploymentContainer,
    DeploymentGap,
    DeploymentImage,
    RunningInterval,
    WorkloadSnapshot,
)
from .forge import (
    Approval,
    BranchCommit,
    ForgeHarvest,
    ProtectionObservation,
    ProtectionSnapshot,
    PullRequest,
    PullRequestCommit,
)
from .projection import ProjectionCursor, ProjectionError
from .shipping import ShippedChange, ShippingMark

__all__ = ["ProjectionCursor", "ProjectionError"]
__all__ += ["Artifact", "Provenance", "SignatureVerdict", "TagSighting"]
__all__ += ["DeployedApplication", "Deployment", "DeploymentCommit", "DeploymentContainer", "DeploymentGap"]
__all__ += ["DeploymentImage", "RunningInterval", "WorkloadSnapshot"]
__all__ += ["Approval", "BranchCommit", "ForgeHarvest", "ProtectionObservation", "ProtectionSnapshot"]
__all__ += ["PullRequest", "PullRequestCommit"]
__all__ += ["ShippedChange", "ShippingMark"]
