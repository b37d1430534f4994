"""Chain of custody of a deployment: `build_custody(deployment) -> Custody`.

from evidence.compliance.custody import build_custody, Custody, Link
chain = build_custody(deployment)
chain.links      # in chain order: name, rule, status (satisfied / violated / not_evidenced), reason,
                 # explanation, entry_seqs, url, subject
chain.findings   # violations and evidence gaps, with codes, severities and the requirements they bear on
chain.verdict    # compliant / exception / incomplete / attempt, with chain.verdict_reason
chain.as_json()

The rules are one per module in `custody.rules` (listed in `rules.RULES`).
"""

from evidence.compliance.custody.build import build_changes, build_custody, build_many
from evidence.compliance.custody.chain import NOT_EVIDENCED, SATISFIED, VIOLATED, Custody, Finding, Link

__all__ = [
    "NOT_EVIDENCED",
    "SATISFIED",
    "VIOLATED",
    "Custody",
    "Finding",
    "Link",
    "build_changes",
    "build_custody",
    "build_many",
]
