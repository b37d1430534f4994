"""Read models: rows derived from ledger entries, each citing the seq of the entry behind it."""

from .artifacts import Artifact, Provenance, SignatureVerdict
from .deployments import DeployedApplication, Deployment, DeploymentGap, DeploymentImage, WorkloadSnapshot
from .forge import Approval, BranchCommit, ProtectionObservation, ProtectionSnapshot, PullRequest, PullRequestCommit
from .projection import ProjectionCursor, ProjectionError

__all__ = ["ProjectionCursor", "ProjectionError"]
__all__ += ["Artifact", "Provenance", "SignatureVerdict"]
__all__ += ["DeployedApplication", "Deployment", "DeploymentGap", "DeploymentImage", "WorkloadSnapshot"]
__all__ += ["Approval", "BranchCommit", "ProtectionObservation", "ProtectionSnapshot"]
__all__ += ["PullRequest", "PullRequestCommit"]
