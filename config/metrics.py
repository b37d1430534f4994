"""GET /metrics: Prometheus text. Ledger and harvest figures are read from the database at scrape
time (so every process reports the same numbers); webhook deliveries are this process's counters.

When METRICS_TOKEN is set, a scrape must send `Authorization: Bearer <token>`."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from evidence.core.metrics import REGISTRY as COUNTERS


class LedgerCollector(Collector):
    def collect(self):  # type: ignore[no-untyped-def]
        from evidence.sources.models import HarvestRun
        from ledger.models import Checkpoint, Head, QueuedEntry

        head = Head.objects.filter(id=1).first()
        yield GaugeMetricFamily("ledger_entries", "Entries in the ledger (tree size).", value=head.size if head else 0)
        yield GaugeMetricFamily(
            "ledger_sequencer_backlog", "Accepted entries waiting for the sequencer.", value=QueuedEntry.objects.count()
        )
        last = Checkpoint.objects.order_by("-size").first()
        age = (timezone.now() - last.signed_at).total_seconds() if last else float("nan")
        yield GaugeMetricFamily("ledger_checkpoint_age_seconds", "Age of the newest signed checkpoint.", value=age)
        yield GaugeMetricFamily(
            "ledger_checkpoint_size", "Tree size of the newest signed checkpoint.", value=last.size if last else 0
        )
        runs = GaugeMetricFamily(
            "evidence_harvest_runs", "Harvest runs by source and outcome.", labels=["source", "status"]
        )
        for row in HarvestRun.objects.values("source__name", "status").annotate(n=Count("id")).order_by():
            runs.add_metric([row["source__name"], row["status"]], row["n"])
        yield runs
        last_ok = GaugeMetricFamily(
            "evidence_harvest_last_success_timestamp_seconds",
            "When the last successful harvest run of each source finished (Unix time).",
            labels=["source"],
        )
        succeeded = HarvestRun.objects.filter(status="succeeded").values("source__name")
        for row in succeeded.annotate(at=Max("finished_at")).order_by():
            if row["at"] is not None:
                last_ok.add_metric([row["source__name"]], row["at"].timestamp())
        yield last_ok


_DATABASE = CollectorRegistry(auto_describe=False)
_DATABASE.register(LedgerCollector())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(errors="replace"), f"Bearer {token}".encode()):
            return HttpResponse(
                "metrics need the bearer token of METRICS_TOKEN\n", status=401, content_type="text/plain"
            )
    body = generate_latest(_DATABASE) + generate_latest(COUNTERS)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
