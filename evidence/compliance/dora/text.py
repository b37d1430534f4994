"""The five figures as a short block of text (manage.py dora, the demo)."""

from __future__ import annotations

from evidence.compliance.dora.bands import EDITION
from evidence.compliance.dora.metrics import METRICS, DoraReport

LABELS = {
    "deployment_frequency": "Deployment frequency",
    "change_lead_time": "Change lead time (median)",
    "change_fail_rate": "Change fail rate",
    "recovery_time": "Failed deployment recovery time (median)",
    "rework_rate": "Rework rate",
}


def figure_lines(report: DoraReport) -> list[str]:
    scope = report.environment + (f"/{report.application}" if report.application else "")
    lines = [f"DORA metrics for {scope}, {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC"]
    width = max(len(label) for label in LABELS.values())
    for name in METRICS:
        figure = report.figures[name]
        if figure.value is None:
            shown = "no data"
        else:
            shown = f"{figure.value} {figure.unit}"
        band = figure.band or ("no published band" if name == "rework_rate" and figure.value else "-")
        extra = ""
        if name == "change_lead_time" and figure.value is not None:
            extra = f", p90 {figure.extra['p90']} h"
        if name == "deployment_frequency":
            extra = f" ({figure.extra['deployments']} deployments, {figure.extra['attempts']} attempts)"
        if name in ("change_fail_rate", "rework_rate") and figure.value is not None:
            part = figure.extra.get("failed", figure.extra.get("unplanned"))
            extra = f" ({part} of {figure.extra['deployments']})"
        lines.append(f"  {LABELS[name].ljust(width)}  {shown}{extra}  [{band}]  ({figure.samples} samples)")
    joined = sum(1 for i in report.incidents if i.joined_to is not None)
    lines.append(f"  incidents: {len(report.incidents)} ({joined} joined to a deployment); bands: {EDITION}")
    return lines
