"""The DORA part of the auditor's dashboard: the five figures of its environment and period, each
with its weekly trend as a chart and as a table. An empty period says "no data", never zero."""

from __future__ import annotations

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
    """What dashboard_dora.html shows: one `dora_figures` call, one chart per metric."""
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
