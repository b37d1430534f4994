"""The rules of a chain of custody, one per module, run in this order within each scope.

A new rule is one module (a `RULE = Rule(...)`, see `base`) and one line here. Each declares
what it reads, which codes it can raise and what it checks; docs/custody.md lists them.
"""

from __future__ import annotations

from evidence.compliance.custody.rules import (
    ancestry,
    approvals,
    bypass,
    commit,
    config_revision,
    deployer,
    deployment,
    emergency,
    history,
    image,
    image_digests,
    merger,
    policy,
    protection,
    protection_observed,
    provenance,
    pull_request,
    running,
    signature,
    sync,
)
from evidence.compliance.custody.rules.base import Case, Rule

RULES: list[Rule] = [
    deployment.RULE,
    policy.RULE,
    image_digests.RULE,
    image.RULE,
    signature.RULE,
    provenance.RULE,
    commit.RULE,
    pull_request.RULE,
    ancestry.RULE,
    approvals.RULE,
    merger.RULE,
    protection.RULE,
    protection_observed.RULE,
    bypass.RULE,
    config_revision.RULE,
    running.RULE,
    sync.RULE,
    deployer.RULE,
    emergency.RULE,
    history.RULE,
]

__all__ = ["RULES", "Case", "Rule"]
