"""Which findings caught each seeded case of the demo world, and which findings no case explains.

    report = judge_seeded(world)
    report.expected == report.found     # the demo world is exact: only what it seeded

A case lands on deployments of the world (`World.landed_on`); each is found in the read models by
environment, application and the time its sync started. The findings are custody's, for every
prod and staging deployment, exactly as the API and packs give them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from devkit.demo.world import SeededCase, World
from evidence.compliance.custody.build import build_many
from evidence.readmodels.models import Deployment

ENVIRONMENTS = ("prod", "staging")


@dataclass
class SeededReport:
    expected: set[tuple[int, str]] = field(default_factory=set)  # (deployment id, code) the cases call for
    found: set[tuple[int, str]] = field(default_factory=set)  # (deployment id, code) custody raised
    cases: dict[str, list[tuple[Deployment, tuple[str, ...]]]] = field(default_factory=dict)
    rows: dict[int, Deployment] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)  # a case's deployment not in the read models

    def lines(self) -> list[str]:
        """Per case, the deployments and the findings that caught it; then what no case explains."""
        out = []
        for name, landed in self.cases.items():
            parts = []
            for row, codes in landed:
                caught = [c for c in codes if (row.id, c) in self.found]
                missed = [c for c in codes if (row.id, c) not in self.found]
                text = f"{row.environment}/{row.application} deployment {row.id} ({row.revision[:12]}): "
                text += ", ".join(caught) or "nothing"
                if missed:
                    text += f"; NOT CAUGHT: {', '.join(missed)}"
                parts.append(text)
            out.append(f"  {name:<20} " + ("; ".join(parts) or "lands on no deployment"))
        for name in self.unmatched:
            out.append(f"  {name:<20} a deployment it lands on is not in the read models")
        extra = sorted(self.found - self.expected)
        if extra:
            out.append("  findings no seeded case explains:")
            out += [f"    {self.rows[i].environment}/{self.rows[i].application} deployment {i}: {c}" for i, c in extra]
        else:
            out.append("  findings no seeded case explains: none")
        return out


def judge_seeded(world: World) -> SeededReport:
    report = SeededReport()
    rows = list(Deployment.objects.filter(environment__in=ENVIRONMENTS).order_by("started_at", "id"))
    report.rows = {row.id: row for row in rows}
    for row, chain in zip(rows, build_many(rows), strict=True):
        report.found |= {(row.id, f.code) for f in chain.findings}
    index: dict[tuple[str, str, datetime], Deployment] = {
        (row.environment, row.application, row.started_at): row for row in rows
    }
    apps = {a.name: a for a in world.apps}
    for case in world.seeded:
        report.cases[case.name] = []
        for deployment in world.landed_on(case):
            app = apps[deployment.app]
            row = index.get((app.environment, app.project, deployment.at))
            if row is None:
                report.unmatched.append(case.name)
                continue
            report.cases[case.name].append((row, case.codes))
            report.expected |= {(row.id, code) for code in case.codes}
    return report


__all__ = ["SeededCase", "SeededReport", "judge_seeded"]
