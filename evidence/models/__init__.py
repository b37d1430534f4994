"""Evidence models: one module per area, imported here so Django sees them."""

from .core import HarvestCursor, HarvestRun, ProjectionCursor, Source
from .deployments import DeployedApplication, Deployment, DeploymentGap, DeploymentImage, WorkloadSnapshot

__all__ = ["HarvestCursor", "HarvestRun", "ProjectionCursor", "Source"]
__all__ += ["DeployedApplication", "Deployment", "DeploymentGap", "DeploymentImage", "WorkloadSnapshot"]
