"""The one error every step of building a pack raises, below both the pack and its signing."""

from __future__ import annotations


class PackError(RuntimeError):
    """A pack that cannot be built (empty ledger, no key, no certificate); the message says why."""
