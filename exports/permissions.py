"""Who may request and read audit packs: auditors and engineers (groups), and superusers."""

from __future__ import annotations

from evidence.core.permissions import AUDITORS, ENGINEERS, ReadsEvidence

PACK_GROUPS = (AUDITORS, ENGINEERS)


class CanUsePacks(ReadsEvidence):
    message = "audit packs are for auditors and engineers"
