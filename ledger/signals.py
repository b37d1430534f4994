"""Signals the ledger sends; other apps listen, the ledger imports none of them."""

from django.dispatch import Signal

# Sent after a sequencer batch has committed, with first_seq and last_seq (inclusive).
sequenced = Signal()
