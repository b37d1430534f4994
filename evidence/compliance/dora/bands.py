"""Performance bands from the published DORA benchmarks, and the figures' arithmetic.

Django-free: the thresholds below are the 2024 Accelerate State of DevOps Report's cluster table
(elite / high / medium / low). Where that edition's clusters are not ordered on one metric
(change fail rate: medium 10 % sits below high 20 %; recovery time: high and medium both "less
than one day"), a value gets the best band whose published figure it meets, so medium is not
reachable on those two. Rework rate entered the model in 2024 without cluster figures: no band.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

EDITION = "DORA Accelerate State of DevOps Report 2024"
HOUR, DAY, WEEK = 3600, 86400, 7 * 86400
MONTH = 30 * DAY

# (band, upper bound): the first band whose bound the value is under (or at, for rates).
LEAD_TIME = (("elite", DAY), ("high", WEEK), ("medium", MONTH))  # seconds; else low
RECOVERY_TIME = (("elite", HOUR), ("high", DAY))  # seconds; medium shares high's "< 1 day"; else low
CHANGE_FAIL_RATE = (("elite", Decimal("0.05")), ("high", Decimal("0.20")))  # else low (40 %)
# Deployments per day at or above which a band holds: on demand (daily or more), weekly, monthly.
DEPLOYMENT_FREQUENCY = (("elite", Decimal(1)), ("high", Decimal(1) / 7), ("medium", Decimal(1) / 30))


def band_below(value: Decimal | int | None, bounds: Sequence[tuple[str, Decimal | int]], strict: bool) -> str | None:
    """The first band whose bound the value is under (strict) or at most; 'low' past them; None for no data."""
    if value is None:
        return None
    for name, bound in bounds:
        if value < bound or (not strict and value == bound):
            return name
    return "low"


def frequency_band(per_day: Decimal | None) -> str | None:
    if per_day is None:
        return None
    for name, floor in DEPLOYMENT_FREQUENCY:
        if per_day >= floor:
            return name
    return "low"


def lead_time_band(seconds: int | None) -> str | None:
    return band_below(seconds, LEAD_TIME, strict=True)


def recovery_band(seconds: int | None) -> str | None:
    return band_below(seconds, RECOVERY_TIME, strict=True)


def fail_rate_band(rate: Decimal | None) -> str | None:
    return band_below(rate, CHANGE_FAIL_RATE, strict=False)


def ratio(part: int, whole: int) -> Decimal | None:
    """part/whole to four places (figures are decimal strings, never floats); None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def percentile(values: Sequence[int], p: int) -> int | None:
    """The nearest-rank p-th percentile of whole seconds (p50 = median, lower middle when even)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))  # ceil(p/100 * n)
    return ordered[rank - 1]


def text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
