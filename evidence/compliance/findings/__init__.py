"""Findings: the failing links of chains of custody, judged by the policy in force then.

Write path (ledger entries, four eyes): `propose_policy`/`approve_policy`,
`propose_acceptance`/`approve_acceptance`. Read model: evidence.compliance.models.Finding.
"""

from evidence.compliance.findings.codes import CHANGE_CONTROLS, CODES
from evidence.compliance.findings.errors import PolicyError
from evidence.compliance.findings.policy import approve_acceptance, approve_policy, propose_acceptance, propose_policy

__all__ = [
    "CHANGE_CONTROLS",
    "CODES",
    "PolicyError",
    "approve_acceptance",
    "approve_policy",
    "propose_acceptance",
    "propose_policy",
]
