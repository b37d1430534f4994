"""The "DORA metrics" section of the environment pack: the five figures of its environment and
period from `dora_figures` (docs/dora.md), each with its unit, band, edition and samples; an empty
period says "no data", never zero.

Every sample is attached as dora-samples.csv (metric, time, subject, value, entry seqs), its entries
embedded; summary.json states the figures under `dora.*`, which the offline verifier recomputes from
that file (exports.figures.dora_figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evidence.compliance.dora import METRICS, dora_figures
from evidence.compliance.dora.bands import EDITION
from evidence.compliance.dora.text import LABELS

from ... import figures
from ...errors import PackError
from ..content import Section, Table

NO_DATA = "no data"


@dataclass
class DoraPart:
    section: Section
    seqs: list[int]  # every entry a sample cites
    summary: dict[str, Any]  # the dora.* figures, as dora_figures gives them
    spec: dict[str, Any]  # summary.json's "dora": the period the verifier recomputes over
    attachment: bytes  # dora-samples.csv


def _band(name: str, figure: Any) -> str:
    if figure.band:
        return figure.band
    if figure.value is not None and name == "rework_rate":
        return "no published band"
    return "-"


def stated_figures(report: Any) -> dict[str, Any]:
    """The dora.* figures the pack states, taken from the report (the verifier rebuilds them from the samples)."""
    f = report.figures
    frequency, lead, fail, recovery, rework = (f[name] for name in METRICS)
    return {
        "dora.deployment_frequency.deployments": frequency.extra["deployments"],
        "dora.deployment_frequency.per_day": frequency.value,
        "dora.change_lead_time.samples": lead.samples,
        "dora.change_lead_time.median_hours": lead.value,
        "dora.change_lead_time.p90_hours": lead.extra["p90"],
        "dora.change_fail_rate.deployments": fail.extra["deployments"],
        "dora.change_fail_rate.failed": fail.extra["failed"],
        "dora.change_fail_rate.ratio": fail.value,
        "dora.recovery_time.samples": recovery.samples,
        "dora.recovery_time.not_restored": recovery.extra["not_restored"],
        "dora.recovery_time.median_hours": recovery.value,
        "dora.recovery_time.p90_hours": recovery.extra["p90"],
        "dora.rework_rate.deployments": rework.extra["deployments"],
        "dora.rework_rate.unplanned": rework.extra["unplanned"],
        "dora.rework_rate.ratio": rework.value,
    }


def dora_part(environment: str, since: datetime, until: datetime, size: int) -> DoraPart:
    report = dora_figures(environment, since, until)
    samples = [s.as_json() for s in report.samples]
    beyond = sorted({seq for s in samples for seq in s["entry_seqs"] if seq >= size})
    if beyond:
        raise PackError(
            f"DORA: samples cite entries {beyond[:5]} past the pack's checkpoint (size {size}); build it again"
        )
    rows = []
    for name in METRICS:
        figure = report.figures[name]
        rows.append(
            [
                LABELS[name],
                NO_DATA if figure.value is None else figure.value,
                figure.unit,
                _band(name, figure),
                EDITION if figure.band else "-",
                str(figure.samples),
            ]
        )
    lead, frequency = report.figures["change_lead_time"], report.figures["deployment_frequency"]
    recovery = report.figures["recovery_time"]
    points = [
        f"Deployment frequency counts {frequency.extra['deployments']} live deployment(s); "
        f"{frequency.extra['attempts']} failed or unfinished sync(s) are attempts, in no figure.",
        "Change lead time starts at \u201cpull request opened\u201d (commit times are not evidenced); p90 "
        + (NO_DATA if lead.extra["p90"] is None else f"{lead.extra['p90']} hours")
        + f"; {lead.extra['not_evidenced']} shipped change(s) hold no opened time.",
        f"Recovery time: {recovery.extra['not_restored']} failure(s) not restored in the period, outside the median.",
    ]
    table = Table(
        title="The five figures",
        headers=["Metric", "Value", "Unit", "Band", "Edition", "Samples"],
        rows=rows,
        widths=[26, 9, 20, 14, 23, 8],
    )
    section = Section(
        title="DORA metrics",
        intro=(
            f"The five DORA metrics of {environment} in the period, computed from the same ledger (docs/dora.md). "
            f"Each of the {len(samples)} sample(s) is attached as {figures.DORA_SAMPLES} with the entries it was "
            "computed from; the verifier recomputes the figures from it. An empty period has no data, never zero."
        ),
        tables=[table],
        points=points,
    )
    spec = {"since": since.isoformat(), "until": until.isoformat(), "edition": EDITION}
    spec["metrics"] = {name: {"unit": report.figures[name].unit, "band": report.figures[name].band} for name in METRICS}
    return DoraPart(
        section,
        sorted({seq for s in samples for seq in s["entry_seqs"]}),
        stated_figures(report),
        spec,
        figures.dora_csv(samples),
    )
