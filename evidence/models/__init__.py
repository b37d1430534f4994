"""Evidence models: one module per area, imported here so Django sees them."""

from .artifacts import Artifact, Provenance, SignatureVerdict
from .core import HarvestCursor, HarvestRun, ProjectionCursor, Source
from .deployments import DeployedApplication, Deployment, DeploymentGap, DeploymentImage, WorkloadSnapshot
from .forge import Approval, ProtectionObservation, ProtectionSnapshot, PullRequest, PullRequestCommit
from .policy import Finding, Policy, RiskAcceptance

__all__ = ["HarvestCursor", "HarvestRun", "ProjectionCursor", "Source"]
__all__ += ["Artifact", "Provenance", "SignatureVerdict"]
__all__ += ["DeployedApplication", "Deployment", "DeploymentGap", "DeploymentImage", "WorkloadSnapshot"]
__all__ += ["Approval", "ProtectionObservation", "ProtectionSnapshot", "PullRequest", "PullRequestCommit"]
__all__ += ["Finding", "Policy", "RiskAcceptance"]
