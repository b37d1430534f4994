"""The five DORA metrics of one environment (and application) over a period, each sample citing
the ledger entries it was computed from. `dora_figures` is the one entry point (API, command,
admin dashboard, packs).

- deployment frequency: live deployments (succeeded, degraded, rolled back) per day; failed and
  unfinished syncs are counted apart as attempts;
- change lead time: per change shipped (`changes.ship_history`), PR opened -> deployed, with the
  breakdown review (opened -> first approval -> merge) and delivery (merge -> deployed); coding
  time (first commit -> opened) is not evidenced: harvests do not record commit times;
- change fail rate: live deployments that led to a failure (degraded; replaced by a rollback;
  replaced within DORA_FAILURE_WINDOW_HOURS by a deployment shipping a hotfix or a revert; joined
  to an incident) over live deployments;
- failed deployment recovery time: failing deployment -> the next live deployment that was not
  degraded; an incident: start -> resolution;
- rework rate: live deployments that were not planned (rollbacks, or shipping a hotfix or a
  revert) over live deployments.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q

from evidence.compliance.custody.load import deployed_at, revision_shas
from evidence.compliance.dora import bands
from evidence.compliance.dora.buckets import buckets
from evidence.compliance.dora.changes import Change, Shipped, ship_history
from evidence.compliance.dora.incidents import Incident, load_incidents
from evidence.readmodels.models import Approval, Deployment
from evidence.readmodels.models.deployments import LIVE_OUTCOMES

METRICS = ("deployment_frequency", "change_lead_time", "change_fail_rate", "recovery_time", "rework_rate")
ATTEMPTS = ("failed", "in_progress")


@dataclass
class Sample:
    metric: str
    at: datetime
    subject: str
    value: int | None  # seconds for times, 1/0 for rates, 1 per deployment for frequency
    entry_seqs: list[int]
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "at": self.at.isoformat(),
            "subject": self.subject,
            "value": self.value,
            "detail": self.detail,
            "entry_seqs": sorted(set(self.entry_seqs)),
        }


@dataclass
class Figure:
    metric: str
    unit: str
    value: str | None  # decimal text; None: no data
    band: str | None
    samples: int
    extra: dict[str, Any] = field(default_factory=dict)
    trend: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "band": self.band,
            "edition": bands.EDITION if self.band else None,
            "samples": self.samples,
            "no_data": self.value is None,
            **self.extra,
            "trend": self.trend,
        }


@dataclass
class DoraReport:
    environment: str
    application: str | None
    since: datetime
    until: datetime
    bucket: str
    figures: dict[str, Figure]
    samples: list[Sample]
    incidents: list[Incident]

    def as_json(self, with_samples: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "environment": self.environment,
            "application": self.application,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "bucket": self.bucket,
            "edition": bands.EDITION,
            "metrics": {name: self.figures[name].as_json() for name in METRICS},
            "incidents": [i.as_json() for i in self.incidents],
        }
        if with_samples:
            out["samples"] = [s.as_json() for s in self.samples]
        return out


def dora_figures(
    environment: str, since: datetime, until: datetime, application: str | None = None, bucket: str = "week"
) -> DoraReport:
    """The five figures with their trend, samples and incidents (a fixed number of queries)."""
    return _Computation(environment, application, since, until, bucket).run()


def hours(seconds: int | None) -> str | None:
    return None if seconds is None else str((Decimal(seconds) / 3600).quantize(Decimal("0.01")))


class _Computation:
    def __init__(self, environment: str, application: str | None, since: datetime, until: datetime, bucket: str):
        self.environment, self.application = environment, application
        self.since, self.until, self.bucket = since, until, bucket
        self.window = timedelta(hours=settings.DORA_FAILURE_WINDOW_HOURS)
        self.hotfix = re.compile(settings.DORA_HOTFIX_PATTERN)
        self.revert = re.compile(settings.DORA_REVERT_PATTERN)

    def in_period(self, at: datetime) -> bool:
        return self.since <= at < self.until

    def run(self) -> DoraReport:
        rows = Deployment.objects.filter(environment=self.environment)
        if self.application is not None:
            rows = rows.filter(application=self.application)
        rows = rows.filter(Q(finished_at__lt=self.until) | Q(finished_at__isnull=True, started_at__lt=self.until))
        fields: tuple[str, ...] = ("id", "identity", "environment", "application", "revision", "image_digests")
        fields += ("started_at", "finished_at", "outcome", "entry_seqs", "subject")
        everything = list(rows.only(*fields).order_by("finished_at", "id"))
        live = sorted(
            (d for d in everything if d.outcome in LIVE_OUTCOMES and d.finished_at is not None),
            key=lambda d: (deployed_at(d), d.id),
        )
        attempts = [d for d in everything if d.outcome in ATTEMPTS and self.in_period(deployed_at(d))]
        self.shipped = ship_history(live)
        self._rows = {d.id: d for d in live}
        self.previous: dict[int, Deployment | None] = {}
        self.place: dict[int, tuple[list[Deployment], int]] = {}  # id -> (its application's series, index)
        by_app: dict[str, list[Deployment]] = defaultdict(list)
        for d in live:
            by_app[d.application].append(d)
        for series in by_app.values():
            for i, d in enumerate(series):
                self.previous[d.id] = series[i - 1] if i else None
                self.place[d.id] = (series, i)
        period = [d for d in live if self.in_period(deployed_at(d))]
        self.incidents = load_incidents(self.environment, self.application, self.since, self.until)
        self._join_incidents(live)

        samples: list[Sample] = []
        figures = {
            "deployment_frequency": self._frequency(period, attempts, samples),
            "change_lead_time": self._lead_time(period, samples),
        }
        failures = self._failures(period)
        figures["change_fail_rate"] = self._fail_rate(period, failures, samples)
        figures["recovery_time"] = self._recovery(failures, samples)
        figures["rework_rate"] = self._rework(period, samples)
        return DoraReport(
            self.environment, self.application, self.since, self.until, self.bucket, figures, samples, self.incidents
        )

    # --- helpers ------------------------------------------------------------------------------
    def _shipped(self, d: Deployment) -> Shipped:
        return self.shipped.get(d.id, Shipped())

    def _kind_of(self, pull: Change) -> str:
        if self.revert.search(pull.title):
            return "revert"
        if self.hotfix.search(pull.title):
            return "hotfix"
        return ""

    def _unplanned(self, d: Deployment) -> list[tuple[str, Change | None]]:
        reasons: list[tuple[str, Change | None]] = [("rollback", None)] if d.outcome == "rolled_back" else []
        reasons += [(k, p) for p in self._shipped(d).changes if (k := self._kind_of(p))]
        return reasons

    def _trend(self, samples: list[Sample], value: Any) -> list[dict[str, Any]]:
        spans = buckets(self.since, self.until, self.bucket)
        starts = [start for start, _ in spans]
        grouped: list[list[Sample]] = [[] for _ in spans]
        for sample in samples:
            if self.in_period(sample.at):
                grouped[bisect_right(starts, sample.at) - 1].append(sample)
        return [
            {"start": start.isoformat(), "value": value(inside, start, end), "samples": len(inside)}
            for (start, end), inside in zip(spans, grouped, strict=True)
        ]

    # --- deployment frequency --------------------------------------------------------------------
    def _frequency(self, period: list[Deployment], attempts: list[Deployment], out: list[Sample]) -> Figure:
        mine = [
            Sample(
                "deployment_frequency",
                deployed_at(d),
                d.identity,
                1,
                list(d.entry_seqs),
                {"deployment": d.id, "application": d.application, "outcome": d.outcome},
            )
            for d in period
        ]
        out += mine

        def per_day(inside: list[Sample], start: datetime, end: datetime) -> str | None:
            days = Decimal((end - start).total_seconds()) / 86400
            return str((Decimal(len(inside)) / days).quantize(Decimal("0.001"))) if days else None

        value = per_day(mine, self.since, self.until) if mine else None
        return Figure(
            "deployment_frequency",
            "deployments per day",
            value,
            bands.frequency_band(Decimal(value) if value else None),
            len(mine),
            {"deployments": len(mine), "attempts": len(attempts)},
            self._trend(mine, lambda s, a, b: per_day(s, a, b) if s else None),
        )

    # --- change lead time ----------------------------------------------------------------------------
    def _lead_time(self, period: list[Deployment], out: list[Sample]) -> Figure:
        pulls = {p.id: p for d in period for p in self._shipped(d).changes}
        approved = _first_approvals(list(pulls.values()))
        mine: list[Sample] = []
        parts: dict[str, list[int]] = defaultdict(list)
        for d in period:
            at = deployed_at(d)
            for pull in self._shipped(d).changes:
                start = pull.opened_at
                if start is None or pull.merged_at is None:
                    continue  # not evidenced: the change's entry holds no opened time
                first = approved.get(pull.id)
                detail: dict[str, Any] = {
                    "deployment": d.id,
                    "change": str(pull),
                    "coding": None,  # first commit times are not recorded by the harvests
                    "review_to_first_approval": _seconds(start, first[0]) if first else None,
                    "first_approval_to_merge": _seconds(first[0], pull.merged_at) if first else None,
                    "review": _seconds(start, pull.merged_at),
                    "delivery": _seconds(pull.merged_at, at),
                }
                for part in ("review", "delivery", "review_to_first_approval", "first_approval_to_merge"):
                    if detail[part] is not None:
                        parts[part].append(detail[part])
                seqs = [*d.entry_seqs, pull.entry_seq, *([first[1]] if first else [])]
                mine.append(Sample("change_lead_time", at, str(pull), _seconds(start, at), seqs, detail))
        out += mine
        values = [s.value for s in mine if s.value is not None]
        median = bands.percentile(values, 50)
        shipped = sum(len(self._shipped(d).changes) for d in period)
        return Figure(
            "change_lead_time",
            "hours",
            hours(median),
            bands.lead_time_band(median),
            len(mine),
            {
                "median": hours(median),
                "p90": hours(bands.percentile(values, 90)),
                "changes_shipped": shipped,
                "not_evidenced": shipped - len(mine),
                "breakdown": {
                    "coding": {"median": None, "reason": "not evidenced: commit times are not recorded"},
                    **{k: {"median": hours(bands.percentile(v, 50))} for k, v in sorted(parts.items())},
                },
                "start": "pull request opened",
            },
            self._trend(mine, lambda s, a, b: hours(bands.percentile([x.value for x in s if x.value is not None], 50))),
        )

    # --- failures ---------------------------------------------------------------------------------------
    def _failures(self, period: list[Deployment]) -> dict[int, list[dict[str, Any]]]:
        """Per failed deployment in the period: each cause, with the entries that show it."""
        causes: dict[int, list[dict[str, Any]]] = defaultdict(list)
        ids = {d.id for d in period}
        for d in period:
            if d.outcome == "degraded":
                causes[d.id].append({"cause": "degraded", "entry_seqs": list(d.entry_seqs)})
        for later in self.previous:
            before = self.previous[later]
            if before is None or before.id not in ids:
                continue
            replacement = self._row(later)
            for kind, pull in self._unplanned(replacement):
                if kind == "rollback":
                    causes[before.id].append(
                        {"cause": "rolled back", "by": replacement.id, "entry_seqs": list(replacement.entry_seqs)}
                    )
                elif deployed_at(replacement) - deployed_at(before) <= self.window:
                    assert pull is not None
                    causes[before.id].append(
                        {
                            "cause": f"followed by a {kind}",
                            "by": replacement.id,
                            "change": str(pull),
                            "entry_seqs": [*replacement.entry_seqs, pull.entry_seq],
                        }
                    )
        for incident in self.incidents:
            if incident.joined_to in ids:
                causes[incident.joined_to].append(
                    {"cause": "incident", "incident": incident.key, "entry_seqs": list(incident.entry_seqs)}
                )
        return dict(causes)

    def _row(self, deployment_id: int) -> Deployment:
        return self._rows[deployment_id]

    def _fail_rate(
        self, period: list[Deployment], failures: dict[int, list[dict[str, Any]]], out: list[Sample]
    ) -> Figure:
        mine = []
        for d in period:
            causes = failures.get(d.id, [])
            seqs = [*d.entry_seqs, *(s for c in causes for s in c["entry_seqs"])]
            detail = {"deployment": d.id, "failed": bool(causes), "causes": [_without_seqs(c) for c in causes]}
            mine.append(Sample("change_fail_rate", deployed_at(d), d.identity, int(bool(causes)), seqs, detail))
        out += mine
        rate = bands.ratio(sum(s.value or 0 for s in mine), len(mine))
        return Figure(
            "change_fail_rate",
            "ratio",
            bands.text(rate),
            bands.fail_rate_band(rate),
            len(mine),
            {"failed": sum(s.value or 0 for s in mine), "deployments": len(mine)},
            self._trend(mine, lambda s, a, b: bands.text(bands.ratio(sum(x.value or 0 for x in s), len(s)))),
        )

    def _recovery(self, failures: dict[int, list[dict[str, Any]]], out: list[Sample]) -> Figure:
        mine: list[Sample] = []
        for deployment_id, causes in sorted(failures.items()):
            if all(c["cause"] == "incident" for c in causes):
                continue  # the incident's own start and resolution measure it
            d = self._row(deployment_id)
            series, at = self.place[d.id]
            restored = next((n for n in series[at + 1 :] if n.outcome != "degraded"), None)
            seqs = [*d.entry_seqs, *(restored.entry_seqs if restored else [])]
            value = _seconds(deployed_at(d), deployed_at(restored)) if restored else None
            detail: dict[str, Any] = {"deployment": d.id, "restored_by": restored.id if restored else None}
            mine.append(Sample("recovery_time", deployed_at(d), d.identity, value, seqs, detail))
        for incident in self.incidents:
            value = _seconds(incident.started_at, incident.resolved_at) if incident.resolved_at else None
            detail = {
                "incident": incident.key,
                "deployment": incident.joined_to,
                "resolved": incident.resolved_at is not None,
            }
            mine.append(
                Sample("recovery_time", incident.started_at, incident.key, value, list(incident.entry_seqs), detail)
            )
        mine.sort(key=lambda s: (s.at, s.subject))
        out += mine
        values = [s.value for s in mine if s.value is not None]
        median = bands.percentile(values, 50)
        return Figure(
            "recovery_time",
            "hours",
            hours(median),
            bands.recovery_band(median),
            len(values),
            {
                "median": hours(median),
                "p90": hours(bands.percentile(values, 90)),
                "not_restored": len(mine) - len(values),
            },
            self._trend(mine, lambda s, a, b: hours(bands.percentile([x.value for x in s if x.value is not None], 50))),
        )

    def _rework(self, period: list[Deployment], out: list[Sample]) -> Figure:
        mine = []
        for d in period:
            reasons = self._unplanned(d)
            seqs = [*d.entry_seqs, *(p.entry_seq for _, p in reasons if p is not None)]
            detail = {"deployment": d.id, "unplanned": [k + (f" {p}" if p else "") for k, p in reasons]}
            mine.append(Sample("rework_rate", deployed_at(d), d.identity, int(bool(reasons)), seqs, detail))
        out += mine
        rate = bands.ratio(sum(s.value or 0 for s in mine), len(mine))
        return Figure(
            "rework_rate",
            "ratio",
            bands.text(rate),
            None,  # the 2024 edition publishes no bands for rework rate
            len(mine),
            {"unplanned": sum(s.value or 0 for s in mine), "deployments": len(mine), "band_note": "no published band"},
            self._trend(mine, lambda s, a, b: bands.text(bands.ratio(sum(x.value or 0 for x in s), len(s)))),
        )

    # --- incidents ---------------------------------------------------------------------------------------
    def _join_incidents(self, live: list[Deployment]) -> None:
        """The join rule of `incidents`: named deployment, else blamed commit, else live at start."""
        by_identity = {d.identity: d for d in live} | {str(d.id): d for d in live}
        for incident in self.incidents:
            if incident.deployment:
                named = by_identity.get(incident.deployment)
                if named is not None:
                    incident.joined_to, incident.joined_by = named.id, "named"
                continue  # a named deployment we do not know joins nothing, never a guess
            candidates = [d for d in live if not incident.application or d.application == incident.application]
            if incident.commit:
                for d in candidates:
                    shipped = self._shipped(d)
                    commits = set(revision_shas(d.revision))
                    commits |= {
                        c for p in shipped.changes for c in (p.merge_commit_sha, p.squash_commit_sha, *p.commits)
                    }
                    if incident.commit in {c.lower() for c in commits if c}:
                        incident.joined_to, incident.joined_by = d.id, "commit"
                        break
                continue
            if not incident.application:
                continue
            live_then = [d for d in candidates if deployed_at(d) <= incident.started_at]
            if live_then:
                incident.joined_to, incident.joined_by = live_then[-1].id, "live at start"


def _seconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


def _without_seqs(cause: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cause.items() if k != "entry_seqs"}


def _first_approvals(changes: list[Change]) -> dict[int, tuple[datetime, int]]:
    """Per change, its first approval (time, entry seq): one query over the changes' branches."""
    out: dict[int, tuple[datetime, int]] = {}
    if not changes:
        return out
    wanted = {c.id for c in changes}
    which = Q()
    for repository, base in {(c.repository, c.base) for c in changes}:
        which |= Q(pull_request__repository=repository, pull_request__base=base)
    first, last = min(c.merged_at for c in changes), max(c.merged_at for c in changes)
    rows = Approval.objects.filter(
        which,
        pull_request__merged_at__gte=first,
        pull_request__merged_at__lte=last,
        submitted_state="APPROVED",
        submitted_at__isnull=False,
    )
    for pull_id, at, seq in rows.values_list("pull_request_id", "submitted_at", "entry_seq"):
        if at is not None and pull_id in wanted and (pull_id not in out or (at, seq) < out[pull_id]):
            out[pull_id] = (at, seq)
    return out
