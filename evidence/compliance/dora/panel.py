"""The DORA part of the auditor's dashboard: the five figures of its environment and period, each
with its weekly trend as a chart and as a table. An empty period says "no data", never zero."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from evidence.compliance import charts
from evidence.compliance.dora.bands import EDITION
from evidence.compliance.dora.metrics import METRICS, dora_figures
from evidence.compliance.dora.text import LABELS

NO_DATA = "no data"
DORA_SETTINGS = (  # what the figures depend on besides the read models
    "DORA_INCIDENT_LABEL",
    "DORA_INCIDENT_ENVIRONMENT",
    "DORA_FAILURE_WINDOW_HOURS",
    "DORA_HOTFIX_PATTERN",
    "DORA_REVERT_PATTERN",
)


@dataclass(frozen=True)
class MetricPanel:
    name: str
    label: str
    value: str  # the figure's decimal text, or "no data"
    unit: str
    band: str  # the band, "no published band" (rework rate) or "-" without data
    samples: int
    trend: list[tuple[str, str, int]]  # (week of, value or "no data", samples)
    chart: SafeString


def dora_panel(environment: str, since: datetime, until: datetime) -> dict[str, Any]:
    """What dashboard_dora.html shows, kept in Django's cache until the projector applies another
    entry: the figures are a function of the read models (and the DORA settings) alone, and a
    year of them takes seconds to count, so the dashboard counts them once per ledger state."""
    from django.conf import settings
    from django.core.cache import cache

    from evidence.readmodels.models import ProjectionCursor
    from ledger.models import Entry

    applied = ProjectionCursor.objects.filter(id=1).values_list("last_seq", flat=True).first()
    # The chain hash at that seq names the whole ledger state (another ledger of the same length,
    # a restore, a test's fresh database: another key).
    chain = Entry.objects.filter(seq=applied).values_list("chain_hash", flat=True).first()
    rules = [getattr(settings, name, None) for name in DORA_SETTINGS]
    state = json.dumps([environment, since, until, applied, bytes(chain or b"").hex(), rules], default=str)
    key = "dora-panel:" + hashlib.sha256(state.encode()).hexdigest()
    panel = cache.get(key)
    if panel is None:
        panel = _panel(environment, since, until)
        cache.set(key, panel, charts.CACHE_SECONDS)
    return panel


def _panel(environment: str, since: datetime, until: datetime) -> dict[str, Any]:
    """One `dora_figures` call, one chart per metric."""
    report = dora_figures(environment, since, until, bucket="week")
    metrics = []
    for name in METRICS:
        figure = report.figures[name]
        weeks = [(datetime.fromisoformat(b["start"]).strftime("%m-%d"), b["value"], b["samples"]) for b in figure.trend]
        svg = charts.trend_line(
            LABELS[name],
            [week for week, _, _ in weeks],
            [None if value is None else float(Decimal(value)) for _, value, _ in weeks],
            figure.unit,
        )
        if figure.band:
            band = figure.band
        elif figure.value is not None and name == "rework_rate":
            band = "no published band"
        else:
            band = "-"
        metrics.append(
            MetricPanel(
                name,
                LABELS[name],
                NO_DATA if figure.value is None else figure.value,
                figure.unit,
                band,
                figure.samples,
                [(week, NO_DATA if value is None else value, n) for week, value, n in weeks],
                mark_safe(svg),  # noqa: S308 - pygal escapes labels
            )
        )
    return {"environment": environment, "since": since, "until": until, "metrics": metrics, "edition": EDITION}
