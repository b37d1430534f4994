"""Evidence models: one module per area, imported here so Django sees them."""

from .core import HarvestCursor, HarvestRun, ProjectionCursor, Source

__all__ = ["HarvestCursor", "HarvestRun", "ProjectionCursor", "Source"]
from .forge import (
    Approval,
    ProtectionObservation,
    ProtectionSnapshot,
    PullRequest,
    PullRequestCommit,
)

__all__ += ["Approval", "ProtectionObservation", "ProtectionSnapshot", "PullRequest", "PullRequestCommit"]
