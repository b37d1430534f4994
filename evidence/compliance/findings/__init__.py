"""Findings: the failing links of chains of custody, judged by the policy in force then.

Write path: `record_policy`, `accept_finding` (ledger entries). Read model: evidence.models.Finding.
"""

from evidence.compliance.findings.codes import CHANGE_CONTROLS, CODES
from evidence.compliance.findings.policy import PolicyError, accept_finding, record_policy

__all__ = ["CHANGE_CONTROLS", "CODES", "PolicyError", "accept_finding", "record_policy"]
