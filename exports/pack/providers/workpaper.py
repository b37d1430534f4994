"""The environment pack as an audit firm's change-management workpaper, for one environment over a
period:

  scope and period     what was tested, under which policy versions
  population           every deployment, with completeness: sources, harvest coverage, gaps as limitations
  sample               method and seed, reproducible by anyone (exports.figures.sample_seqs)
  control matrix       control -> test procedure -> population -> sample -> exceptions -> conclusion
  exceptions           violations with management response, owner and due date where recorded
  risk acceptances     who accepted what, why, until when
  sampled chains       each sampled deployment's chain of custody in full
  findings, protection timeline, then the builder's evidence index, how to verify and sign-off

The population and the exceptions are also attached as CSV (and both in one XLSX). Figures on
the summary page have recipes in exports.figures; the tables restate the chains and cite their
entries, all embedded. Reads only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models.functions import Coalesce

from evidence.compliance.custody import Custody, build_many
from evidence.compliance.custody.verdict import tally
from evidence.compliance.dashboard import Period, environment_figures, percent
from evidence.compliance.findings.codes import CODES, EVIDENCE_CODES
from evidence.compliance.labels import code_label, verdict_label
from evidence.compliance.models import Policy, RiskAcceptance
from evidence.readmodels.models import Deployment, DeploymentGap
from evidence.sources.models import HarvestRun, Source

from ... import figures
from ..content import Cell, Chart, PackContent, Sample, Section, Table
from ..scope import Scope, ScopeError
from .access import access_section
from .custody import (
    MAX_DEPLOYMENTS,
    SEVERITY_COUNTS,
    _branches,
    _envelopes,
    _period,
    _seqs,
    _summary,
    chain_table,
    pack_findings,
    protection_timeline,
)
from .dora import dora_part


@dataclass(frozen=True)
class Objective:
    """One row of the control matrix: a control objective and the codes that are its exceptions."""

    control: str
    procedure: str
    codes: tuple[str, ...]


OBJECTIVES = (
    Objective(
        "Changes are reviewed and approved by someone other than the author",
        "For each deployment, trace each image and the deployed Git revision to the pull request that merged the "
        "commit; count approvals standing on the merged head by people other than the author.",
        ("no_pull_request", "insufficient_approvals", "self_approved", "stale_approval"),
    ),
    Objective(
        "Branch protection enforces review at merge",
        "Read the branch protection recorded in force at each merge, observed by harvests on both sides; compare "
        "with the policy; look for merges that bypassed it.",
        ("protection_off", "protection_weaker_than_policy", "protection_bypassed"),
    ),
    Objective(
        "Deployed images are signed by trusted signers",
        "For each deployed image digest, check the recorded signature verification against the trusted keys and "
        "identities of the policy in force.",
        ("image_unsigned", "signature_invalid", "signer_untrusted"),
    ),
    Objective(
        "Images are built by trusted builders from the reviewed commit",
        "For each deployed image digest, check the SLSA provenance: a trusted builder, and the source commit equal "
        "to the reviewed commit.",
        ("no_provenance", "provenance_commit_mismatch", "builder_untrusted"),
    ),
    Objective(
        "Production runs only what Git deployed, synced automatically",
        "Compare the digests pods ran with those the deployment produced; check how each sync was started.",
        ("drift", "manual_sync"),
    ),
)
XLSX_NAME, POPULATION_CSV, EXCEPTIONS_CSV = "workpaper.xlsx", "population.csv", "exceptions.csv"


def _deployment_codes(chain: Custody) -> set[str]:
    return {f.code for f in chain.findings}


def requirements_by_framework(codes: Iterable[str]) -> list[str]:
    """The requirements the codes bear on, one line per framework: "SOC 2: CC6.1, CC8.1"."""
    grouped: dict[str, set[str]] = {}
    for requirement in {r for code in codes for r in CODES[code].controls}:
        framework, _, number = requirement.rpartition(" ")
        if not framework or not any(ch.isdigit() for ch in number):  # "SOX ITGC change management"
            framework, number = requirement, ""
        grouped.setdefault(framework, set())
        if number:
            grouped[framework].add(number)
    return [f"{fw}: {', '.join(sorted(n))}" if n else fw for fw, n in sorted(grouped.items())]


def control_matrix(chains: list[Custody], sampled: set[int], judged: list[Custody]) -> Table:
    rows: list[list[Cell]] = []
    n = len(judged)
    for objective in OBJECTIVES:
        hit = [c for c in judged if _deployment_codes(c) & set(objective.codes)]
        in_sample = sum(1 for c in judged if c.deployment_id in sampled)
        gaps = [c for c in judged if c not in hit and _deployment_codes(c) & EVIDENCE_CODES]
        if hit:
            conclusion = f"Not effective: {len(hit)} of {n} deployments with exceptions"
        elif gaps:
            conclusion = f"No exception; evidence incomplete for {len(gaps)} deployment(s), see limitations"
        elif n:
            conclusion = f"No exception in {n} deployments"
        else:
            conclusion = "Not tested: no deployment judged"
        rows.append(
            [
                [objective.control, "Exceptions: " + "; ".join(code_label(c) for c in objective.codes) + "."],
                objective.procedure,
                str(n),
                str(in_sample) if sampled else "all (automated)",
                str(len(hit)),
                conclusion,
                requirements_by_framework(objective.codes),
            ]
        )
    return Table(
        title="Controls, test procedures and conclusions",
        headers=["Control", "Test procedure", "Population", "Sample", "Exceptions", "Conclusion", "Requirements"],
        rows=rows,
        widths=[21, 22, 11, 8, 11, 13, 14],
        note="Every deployment in the population is tested by the ledger's custody rules; the sample is for the "
        "auditor to re-perform by hand. Attempts (failed or unfinished syncs) are not judged.",
    )


def exceptions_table(chains: list[Custody], rows: list[Deployment], size: int, now: datetime) -> Table:
    out: list[list[Cell]] = []
    for d, chain in zip(rows, chains, strict=True):
        for f in chain.findings:
            if f.code in EVIDENCE_CODES:
                continue
            accepted = f.status_at(now) == "accepted"
            out.append(
                [
                    [str(d.id), d.application, f"{chain.deployed_at:%Y-%m-%d}"],
                    [code_label(f.code), f"severity {f.severity}"],
                    "risk accepted" if accepted or f.accepted_until else "open",
                    f.acceptance_reason or "none recorded",
                    f.accepted_by or "none recorded",
                    f"{f.accepted_until:%Y-%m-%d}" if f.accepted_until else "none",
                    ", ".join(map(str, _seqs([*f.entry_seqs, f.acceptance_seq], size)[:6])),
                ]
            )
    return Table(
        title="Violations with management response",
        headers=["Deployment", "Exception", "Status", "Management response", "Owner", "Due", "Entries"],
        rows=out,
        widths=[13, 24, 10, 22, 11, 9, 11],
        mono={6},
        note="" if out else "No exception in the period.",
    )


def acceptances_table(chains: list[Custody], size: int) -> tuple[Table, list[int]]:
    keys = {f.key: chain for chain in chains for f in chain.findings}
    rows, seqs = [], []
    found = RiskAcceptance.objects.filter(finding_key__in=list(keys), entry_seq__lt=size).order_by("accepted_at")
    for acceptance in found:
        chain = keys[acceptance.finding_key]
        rows.append(
            [
                [code_label(acceptance.code), f"{chain.application}, {chain.deployed_at:%Y-%m-%d}"],
                acceptance.accepted_by,
                f"{acceptance.accepted_at:%Y-%m-%d}",
                f"{acceptance.until:%Y-%m-%d}",
                acceptance.reason,
                str(acceptance.entry_seq),
            ]
        )
        seqs.append(acceptance.entry_seq)
    table = Table(
        title="Acceptances recorded",
        headers=["Finding", "Accepted by", "On", "Until", "Reason", "Entry"],
        rows=rows,
        widths=[26, 14, 11, 11, 29, 9],
        mono={5},
        note="Each acceptance is a ledger entry naming the one person who recorded it; a second approver is not part "
        "of the recorded evidence."
        if rows
        else "No risk was accepted for a finding of the period.",
    )
    return table, seqs


def completeness(environment: str, since: datetime, until: datetime, size: int) -> tuple[Table, list[str], list[int]]:
    """The sources behind the population, their harvests in the period, and the limitations."""
    runs: dict[str, dict[str, int]] = {}
    for name, status in HarvestRun.objects.filter(started_at__gte=since, started_at__lt=until).values_list(
        "source__name", "status"
    ):
        runs.setdefault(name, {}).setdefault(status, 0)
        runs[name][status] += 1
    rows: list[list[Cell]] = []
    limitations: list[str] = []
    for source in Source.objects.order_by("name"):
        counts = runs.get(source.name, {})
        done = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none in the period"
        rows.append([source.name, source.kind, source.environment or "as mapped", done])
        failed = counts.get("failed", 0) + counts.get("partial", 0)
        if failed:
            limitations.append(f"{source.name}: {failed} harvest run(s) failed or were partial in the period.")
        if not counts and source.enabled:
            limitations.append(f"{source.name}: no harvest run recorded in the period.")
    seqs = []
    for gap in DeploymentGap.objects.filter(environment=environment, entry_seq__lt=size).order_by("entry_seq"):
        missing = ", ".join(map(str, gap.missing[:8])) + (" ..." if len(gap.missing) > 8 else "")
        limitations.append(
            f"{gap.application}: controller history {missing} rolled over unseen"
            + (f" between {gap.after:%Y-%m-%d} and {gap.before:%Y-%m-%d}" if gap.after and gap.before else "")
            + f" (entry {gap.entry_seq}); deployments there may be missing from the population."
        )
        seqs.append(gap.entry_seq)
    table = Table(
        title="Sources and harvest coverage",
        headers=["Source", "Kind", "Environment", "Harvest runs in the period"],
        rows=rows,
        widths=[24, 12, 18, 46],
        note="" if rows else "No source is configured.",
    )
    return table, limitations, seqs


def population_table(rows: list[Deployment], chains: list[Custody], first: dict[int, int]) -> Table:
    table_rows: list[list[Cell]] = []
    for d, chain in zip(rows, chains, strict=True):
        codes = ", ".join(sorted(_deployment_codes(chain))) or "none"
        table_rows.append(
            [
                str(d.id),
                d.application,
                f"{chain.deployed_at:%Y-%m-%d %H:%M}",
                d.revision,
                d.outcome,
                verdict_label(chain.verdict) + ": " + codes,
                str(first[d.id]),
            ]
        )
    return Table(
        title="Population",
        headers=["Id", "Application", "Deployed (UTC)", "Revision", "Outcome", "Verdict and findings", "Entry"],
        rows=table_rows,
        widths=[6, 15, 14, 13, 10, 33, 9],
        mono={3, 6},
    )


def timeline_chart(environment: str, since: datetime, until: datetime) -> Chart:
    """The dashboard's deployments-by-week chart, from the same stored verdicts, and its table."""
    from evidence.compliance.dashboard import figure_charts

    shown = environment_figures(environment, Period(since, until, ""))
    svg = figure_charts(shown, width=760)["timeline"]
    order = ("compliant", "exception", "incomplete", "attempt")
    body: list[list[Cell]] = [[week, *(str(shown.by_week[v][i]) for v in order)] for i, week in enumerate(shown.weeks)]
    table = Table(
        title="Deployments by week (the chart's figures)",
        headers=["Week of", "Compliant", "Exception", "Incomplete", "Attempt"],
        rows=body,
        widths=[20, 20, 20, 20, 20],
    )
    return Chart("Deployments by week and verdict", svg, table)


def csv_bytes(header: list[str], rows: Iterable[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(sheets: dict[str, tuple[list[str], list[list[str]]]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


POPULATION_HEADER = [
    "deployment_id",
    "identity",
    "environment",
    "application",
    "deployed_at",
    "revision",
    "outcome",
    "verdict",
    "finding_codes",
    "first_entry_seq",
    "in_sample",
]
EXCEPTIONS_HEADER = [
    "deployment_id",
    "application",
    "deployed_at",
    "code",
    "title",
    "severity",
    "status",
    "subject",
    "management_response",
    "owner",
    "due",
    "entry_seqs",
]


def attachments(
    rows: list[Deployment], chains: list[Custody], first: dict[int, int], sampled: set[int], now: datetime, size: int
) -> dict[str, bytes]:
    population = [
        [
            str(d.id),
            d.identity,
            d.environment,
            d.application,
            chain.deployed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            d.revision,
            d.outcome,
            chain.verdict,
            ";".join(sorted(_deployment_codes(chain))),
            str(first[d.id]),
            "yes" if d.id in sampled else "no",
        ]
        for d, chain in zip(rows, chains, strict=True)
    ]
    exceptions = [
        [
            str(d.id),
            d.application,
            chain.deployed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            f.code,
            f.title,
            f.severity,
            f.status_at(now),
            f.subject,
            f.acceptance_reason,
            f.accepted_by,
            f.accepted_until.strftime("%Y-%m-%d") if f.accepted_until else "",
            ";".join(map(str, _seqs([*f.entry_seqs, f.acceptance_seq], size))),
        ]
        for d, chain in zip(rows, chains, strict=True)
        for f in chain.findings
        if f.code not in EVIDENCE_CODES
    ]
    return {
        POPULATION_CSV: csv_bytes(POPULATION_HEADER, population),
        EXCEPTIONS_CSV: csv_bytes(EXCEPTIONS_HEADER, exceptions),
        XLSX_NAME: xlsx_bytes(
            {"Population": (POPULATION_HEADER, population), "Exceptions": (EXCEPTIONS_HEADER, exceptions)}
        ),
    }


def policies_in_force(environment: str, until: datetime, size: int) -> tuple[list[str], list[int]]:
    lines, seqs = [], []
    for p in Policy.objects.filter(environment=environment, effective_at__lt=until, entry_seq__lt=size).order_by(
        "effective_at", "entry_seq"
    ):
        lines.append(
            f"Policy version {p.version}, in force from {p.effective_at:%Y-%m-%d %H:%M} UTC (entry {p.entry_seq}): "
            f"{p.min_approvals} approval(s) by others than the author; signature "
            f"{'required' if p.require_signature else 'not required'}; provenance "
            f"{'required' if p.require_provenance else 'not required'}."
        )
        seqs.append(p.entry_seq)
    if not lines:
        lines.append(
            "No policy version was recorded: deployments are judged by the baseline policy (one approval, "
            "signed images, verified provenance, protection on)."
        )
    return lines, seqs


class EnvironmentWorkpaper:
    def build(self, scope: Scope, checkpoint_size: int) -> PackContent:
        since, until = _period(scope)
        size = checkpoint_size
        environment = str(scope.environment)
        query = (
            Deployment.objects.annotate(at=Coalesce("finished_at", "started_at"))
            .filter(environment=environment, at__gte=since, at__lt=until, first_seq__lt=size)
            .order_by("at", "id")
        )
        count = query.count()
        if count > MAX_DEPLOYMENTS:
            raise ScopeError(
                f"scope: {count} deployments is more than a pack lists ({MAX_DEPLOYMENTS}); narrow the period"
            )
        rows = list(query)
        if not rows:
            raise ScopeError(f"scope: no deployment to {environment!r} in the period")
        chains = build_many(rows)
        now = datetime.now(UTC)
        first = {d.id: min(d.entry_seqs) if d.entry_seqs else d.first_seq for d in rows}
        population = sorted(first.values())
        judged = [c for c in chains if not c.attempt]
        sample = None
        sampled: set[int] = set()
        if scope.sample:
            n = min(scope.sample, len(population))
            chosen = set(figures.sample_seqs(population, n, scope.seed))
            sample = Sample(scope.seed, n, population, sorted(chosen))
            sampled = {d.id for d in rows if first[d.id] in chosen}
        findings = pack_findings(chains, size, now, where=True)
        t = tally((c.environment, c.verdict) for c in chains).get(environment, {})
        policy_lines, policy_seqs = policies_in_force(environment, until, size)
        sources, limitations, gap_seqs = completeness(environment, since, until, size)
        incomplete = [c for c in judged if _deployment_codes(c) & EVIDENCE_CODES]
        if incomplete:
            limitations.append(
                f"{len(incomplete)} deployment(s) have links not evidenced (not looked, unreadable or recorded too "
                "late): those links are neither a pass nor a violation, and are listed as evidence gaps in Findings."
            )
        limitations = limitations or ["None found: every source was harvested in the period and no history was lost."]
        acceptances, acceptance_seqs = acceptances_table(chains, size)
        acceptances_note, acceptances.note = acceptances.note, ""
        exceptions = exceptions_table(chains, rows, size, now)
        sections = [
            Section(
                title="Scope and period",
                intro=(
                    f"Objective: every change deployed to {environment} {scope.period()} was reviewed, built from the "
                    "reviewed commit, signed, and deployed through Git, and the evidence of it was not edited "
                    "afterwards. Each deployment is judged by the policy version in force when it happened:"
                ),
                points=policy_lines,
            ),
            Section(
                title="Population and completeness",
                intro=(
                    f"The population is every deployment the controllers recorded for {environment} in the period: "
                    f"{len(rows)} ({t.get('deployments', 0)} judged, {t.get('attempts', 0)} attempt(s) not judged). "
                    f"Compliant {t.get('compliant', 0)}, with exceptions {t.get('exception', 0)}, incomplete "
                    f"evidence {t.get('incomplete', 0)}; compliance rate {percent(t.get('compliance_rate'))}. "
                    f"Also attached as {POPULATION_CSV} and {XLSX_NAME}. Completeness rests on the sources below; "
                    "what they could not see is listed as limitations."
                    + (f" {sources.note}" if not sources.rows else "")
                ),
                tables=[*([sources] if sources.rows else []), population_table(rows, chains, first)],
                charts=[timeline_chart(environment, since, until)],
            ),
            Section(title="Limitations", points=limitations),
            Section(
                title="Sample",
                intro=(
                    f"Method: the {sample.size} deployments whose first entry has the smallest SHA-256 of "
                    f"\u201c{sample.seed}:seq\u201d, drawn from the {len(population)} first entries of the population "
                    "(listed in summary.json). Anyone can redraw it from the seed; the sampled chains are shown in "
                    "full below."
                    if sample
                    else "No sample was requested: every deployment of the population was tested by the custody "
                    "rules; request one with a size and a seed to re-perform by hand."
                ),
            ),
            Section(
                title="Control matrix",
                tables=[control_matrix(chains, sampled, judged)],
            ),
            Section(
                title="Exceptions",
                intro=f"Violations only (evidence gaps are limitations, not exceptions). Also attached as "
                f"{EXCEPTIONS_CSV}. {exceptions.note}",
                tables=[exceptions] if exceptions.rows else [],
            ),
            Section(title="Risk acceptances", intro=acceptances_note, tables=[acceptances] if acceptances.rows else []),
        ]
        if sample:
            picked = [(d, c) for d, c in zip(rows, chains, strict=True) if d.id in sampled]
            sections.append(
                Section(
                    title=f"Sample of {sample.size} deployments in full",
                    intro="Each sampled deployment's chain of custody, link by link, with the entries that prove it.",
                    tables=[
                        chain_table(c, size, f"Deployment {d.id}: {d.application}, {c.deployed_at:%Y-%m-%d %H:%M}")
                        for d, c in picked
                    ],
                )
            )
        sections.append(
            Section(title="Findings", intro="Judged by the policy in force at each deployment.", findings=findings)
        )
        timeline, timeline_seqs = protection_timeline(_branches(chains), size, until)
        sections.append(Section(title="Branch protection", tables=[timeline]))
        dora = dora_part(environment, since, until, size)
        sections.append(dora.section)
        roles, role_seqs = access_section(since, until, size)
        sections.append(roles)
        seqs = _seqs(
            [s for c in chains for s in c.entry_seqs]
            + timeline_seqs
            + role_seqs
            + population
            + policy_seqs
            + gap_seqs
            + acceptance_seqs
            + dora.seqs,
            size,
        )
        envelopes = _envelopes(seqs, size)
        counts = {"deployments": {"seqs": population}}
        summary = _summary(envelopes, findings, counts)
        if sample:
            summary.update(figures.sample_figures(sample.as_json()))
        summary.update(dora.summary)
        return PackContent(
            title="Change-management workpaper",
            scope_description=f"deployments to {environment}",
            period=scope.period(),
            sections=sections,
            seqs=seqs,
            summary=summary,
            summary_rows=[
                ("Deployments", "count.deployments"),
                *SEVERITY_COUNTS,
                ("Findings by code", "findings.by_code"),
            ]
            + ([("Sampled deployments (first entries)", "sample.seqs")] if sample else []),
            findings=findings,
            counts=counts,
            sample=sample,
            dora=dora.spec,
            attachments={
                **attachments(rows, chains, first, sampled, now, size),
                figures.DORA_SAMPLES: dora.attachment,
            },
            signoff=True,
        )
