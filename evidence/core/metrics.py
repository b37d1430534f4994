"""Process-local counters that the apps increment (exported at /metrics with the database gauges)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOK_DELIVERIES = Counter(
    "evidence_webhook_deliveries",
    "Webhook deliveries received by this process, by receiver and outcome (accepted, refused status code).",
    ["receiver", "outcome"],
    registry=REGISTRY,
)


def count_delivery(receiver: str, status: int) -> None:
    """Count one delivery: `accepted` for 2xx, else the refusal's status code."""
    WEBHOOK_DELIVERIES.labels(receiver=receiver, outcome="accepted" if status < 300 else str(status)).inc()
