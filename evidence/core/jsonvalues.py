"""JSON values made fit for the ledger. Django-free.

The ledger hashes no floats (RFC 8785 numbers are doubles, and two encoders may disagree on
their text), so upstream numbers with a fraction are kept as the decimal string Python reads
them as: 1.5 -> "1.5". Integers, strings, booleans and null stay as they are.
"""

from __future__ import annotations

from typing import Any


def without_floats(value: Any, *, dates: bool = False) -> Any:
    """The value with every float as its repr, dict keys as strings, tuples as lists.

    dates=True also turns what has an `isoformat` (date, datetime, time: YAML gives those)
    into ISO text; the sources file needs it, JSON from an API never has such values.
    """
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): without_floats(v, dates=dates) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_floats(v, dates=dates) for v in value]
    if dates and hasattr(value, "isoformat"):
        return value.isoformat()
    return value
