"""The auditor's dashboard: one environment over one period (a quarter by default).

Figures come from the stored judgement (DeploymentVerdict and Finding rows, counted in SQL on
their (environment, deployed_at) indexes), so the page costs a handful of grouped queries at any
size. Exceptions are violations (open or risk-accepted); evidence coverage is the share of judged
deployments whose every link was evidenced in time (no `evidence_gap` or `evidence_recorded_late`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db.models import Count, Max, Min
from django.db.models.functions import TruncWeek
from django.http import HttpRequest
from django.utils.safestring import mark_safe

from evidence.compliance import charts
from evidence.compliance.custody.verdict import ATTEMPT, Tally, rate
from evidence.compliance.findings.codes import CODES, EVIDENCE_CODES
from evidence.compliance.labels import code_label
from evidence.compliance.models import DeploymentVerdict, Finding
from evidence.readmodels.models import DeployedApplication, DeploymentGap

QUARTER = re.compile(r"^(?P<year>\d{4})-?Q(?P<q>[1-4])$")
DEFAULT_ENVIRONMENT = "prod"


@dataclass(frozen=True)
class Period:
    since: datetime  # inclusive, UTC
    until: datetime  # exclusive
    name: str

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        since = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
        until = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=UTC)
        return cls(since, until, f"{year}-Q{q}")

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        return cls.quarter(moment.year, (moment.month - 1) // 3 + 1)

    @property
    def last_day(self) -> date:
        return (self.until - timedelta(days=1)).date()


def _day(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def choose_period(query: dict[str, str], latest: datetime | None) -> tuple[Period, str]:
    """From ?period=2026-Q1, or ?since=&until= (days, until inclusive); else the quarter of the latest
    judged deployment (so a ledger whose last quarter is past still opens on its data). Returns the
    period and an error to show (a bad value falls back to the default, it is never a 500)."""
    default = Period.containing(latest or datetime.now(UTC))
    if raw := query.get("period", "").strip():
        if match := QUARTER.match(raw):
            return Period.quarter(int(match["year"]), int(match["q"])), ""
        return default, f"period {raw!r} is not a quarter such as 2026-Q1"
    since, until = query.get("since", "").strip(), query.get("until", "").strip()
    if since or until:
        start, end = _day(since), _day(until)
        if start is None or end is None or end < start:
            return default, "since and until must be days (YYYY-MM-DD), until not before since"
        return Period(start, end + timedelta(days=1), f"{since} to {until}"), ""
    return default, ""


@dataclass
class Figures:
    environment: str
    period: Period
    tally: Tally = field(default_factory=Tally)
    by_code: list[tuple[str, int, int]] = field(default_factory=list)  # (code, findings, accepted)
    by_control: list[tuple[str, int]] = field(default_factory=list)  # exceptions per control
    with_gaps: int = 0  # judged deployments with an evidence finding
    history_gaps: int = 0  # controller history never seen (DeploymentGap rows)
    weeks: list[str] = field(default_factory=list)
    by_week: dict[str, list[int]] = field(default_factory=dict)  # verdict -> count per week

    @property
    def compliance_rate(self) -> str | None:
        return rate(self.tally.compliant, self.tally.deployments)

    @property
    def evidence_coverage(self) -> str | None:
        return rate(self.tally.deployments - self.with_gaps, self.tally.deployments)

    @property
    def rate_text(self) -> str:
        return percent(self.compliance_rate)

    @property
    def coverage_text(self) -> str:
        return percent(self.evidence_coverage)


def percent(fraction: str | None) -> str:
    """A decimal-string rate ("0.9286") as a percentage with one decimal ("92.9%"); n/a for none."""
    if fraction is None:
        return "n/a"
    return f"{(Decimal(fraction) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def environment_figures(environment: str, period: Period, now: datetime | None = None) -> Figures:
    now = now or datetime.now(UTC)
    out = Figures(environment, period)
    span = {"environment": environment, "deployed_at__gte": period.since, "deployed_at__lt": period.until}
    verdicts = DeploymentVerdict.objects.filter(**span)
    counted = verdicts.values("verdict").annotate(n=Count("*")).values_list("verdict", "n")
    out.tally = tally_of(dict(counted))
    findings = Finding.objects.filter(**span)
    codes = findings.values("code").annotate(n=Count("*")).values_list("code", "n")
    accepted = dict(
        findings.filter(accepted_until__gt=now).values("code").annotate(n=Count("*")).values_list("code", "n")
    )
    out.by_code = sorted(((c, n, accepted.get(c, 0)) for c, n in codes), key=lambda r: (-r[1], r[0]))
    controls: dict[str, int] = {}
    for code, n, _ in out.by_code:
        if code in EVIDENCE_CODES or code not in CODES:
            continue
        for control in CODES[code].controls:
            controls[control] = controls.get(control, 0) + n
    out.by_control = sorted(controls.items(), key=lambda r: (-r[1], r[0]))
    gapped = findings.filter(code__in=EVIDENCE_CODES).exclude(deployment__verdict_row__verdict=ATTEMPT)
    out.with_gaps = gapped.values("deployment_id").distinct().count()
    out.history_gaps = DeploymentGap.objects.filter(environment=environment).count()
    weekly = verdicts.annotate(week=TruncWeek("deployed_at")).values("week", "verdict").annotate(n=Count("*"))
    start = (period.since - timedelta(days=period.since.weekday())).date()
    weeks = []
    day = start
    while day < period.until.date():
        weeks.append(day)
        day += timedelta(days=7)
    out.weeks = [w.strftime("%m-%d") for w in weeks]
    out.by_week = {v: [0] * len(weeks) for v in charts.VERDICT_ORDER}
    index = {w: i for i, w in enumerate(weeks)}
    for row in weekly:
        week = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
        if week in index:
            out.by_week[row["verdict"]][index[week]] += row["n"]
    return out


def environments_overview(period: Period) -> list[tuple[str, dict[str, Any]]]:
    """Every environment's verdict counts and compliance rate over the period (one grouped query)."""
    rows = DeploymentVerdict.objects.filter(deployed_at__gte=period.since, deployed_at__lt=period.until)
    tallies: dict[str, dict[str, int]] = {}
    grouped = rows.values("environment", "verdict").annotate(n=Count("*"))
    for environment, verdict, n in grouped.values_list("environment", "verdict", "n"):
        tallies.setdefault(environment, {})[verdict] = n
    return [(env, tally_of(counts).as_json()) for env, counts in sorted(tallies.items())]


def tally_of(counts: dict[str, int]) -> Tally:
    """A Tally from per-verdict counts (SQL's GROUP BY), as Tally.count would make it one by one."""
    judged = {v: n for v, n in counts.items() if v != ATTEMPT}
    return Tally(
        deployments=sum(judged.values()),
        compliant=judged.get("compliant", 0),
        exception=judged.get("exception", 0),
        incomplete=judged.get("incomplete", 0),
        attempts=counts.get(ATTEMPT, 0),
    )


def figure_charts(figures: Figures, width: int = 760) -> dict[str, str]:
    """The dashboard's charts as SVG text (also drawn into the workpaper pack)."""
    exceptions = [(code_label(c), n) for c, n, _ in figures.by_code if c not in EVIDENCE_CODES]
    return {
        "timeline": charts.deployments_timeline(figures.weeks, figures.by_week, width),
        "controls": charts.horizontal_counts("Exceptions by control", figures.by_control[:12], width),
        "codes": charts.horizontal_counts("Exceptions by finding", exceptions[:12], width),
    }


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.has_perm("compliance.view_deploymentverdict"):
        return {"shown": False}
    environments = list(
        DeployedApplication.objects.order_by("environment").values_list("environment", flat=True).distinct()
    )
    chosen = request.GET.get("environment") or (
        DEFAULT_ENVIRONMENT if DEFAULT_ENVIRONMENT in environments else (environments[0] if environments else "")
    )
    span = DeploymentVerdict.objects.aggregate(first=Min("deployed_at"), latest=Max("deployed_at"))
    first, latest = span["first"], span["latest"]
    period, error = choose_period(request.GET.dict(), latest)
    figures = environment_figures(chosen, period)
    svg = {name: mark_safe(text) for name, text in figure_charts(figures).items()}  # noqa: S308 - pygal escapes labels
    quarters = []
    if first and latest:
        q = Period.containing(first)
        while q.since <= latest:
            quarters.append(q.name)
            q = Period.containing(q.until)
    return {
        "shown": True,
        "environments": environments,
        "environment": chosen,
        "period": period,
        "quarters": quarters,
        "error": error,
        "figures": figures,
        "weeks": list(zip(figures.weeks, *(figures.by_week[v] for v in charts.VERDICT_ORDER), strict=True)),
        "overview": environments_overview(period),
        "charts": svg,
        # The dora branch fills this slot (admin/compliance/dashboard_dora.html) with its figures for
        # the same environment and period.
        "dora": {"environment": chosen, "since": period.since, "until": period.until},
    }
