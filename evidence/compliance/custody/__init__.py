"""Chain of custody of a deployment: `build_custody(deployment) -> Custody`.

from evidence.compliance.custody import build_custody, Custody, Link
chain = build_custody(deployment)
chain.links      # in chain order: name, status, explanation, entry_seqs, url, subject
chain.findings   # the failing links, with codes, severities and controls
chain.as_json()
"""

from evidence.compliance.custody.build import build_changes, build_custody, build_many
from evidence.compliance.custody.chain import Custody, Finding, Link

__all__ = ["Custody", "Finding", "Link", "build_changes", "build_custody", "build_many"]
