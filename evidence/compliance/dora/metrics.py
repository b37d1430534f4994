"""The five DORA metrics of one environment (and application) over a period, each sample citing
the ledger entries it was computed from. `dora_figures` is the one entry point (API, command,
admin dashboard, packs).

- deployment frequency: live deployments (succeeded, degraded, rolled back) per day; failed and
  unfinished syncs are counted apart as attempts;
- change lead time: per change shipped (the `ShippedChange` rows), PR opened -> deployed, with the
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

import gc
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, overload

from django.conf import settings
from django.db.models import Q

from evidence.compliance.custody.load import revision_shas
from evidence.compliance.dora import bands
from evidence.compliance.dora.buckets import buckets
from evidence.compliance.dora.changes import (
    ID,
    MERGED,
    OPENED,
    SEQ,
    TITLE,
    Deployed,
    Live,
    Pull,
    among,
    landed_as,
    lead_figures,
    load_deployed,
    load_live,
    micros_of,
    moment,
    pull_name,
    seconds_between,
    shipped_rows,
    shipped_titled,
    shipped_titles,
)
from evidence.compliance.dora.incidents import Incident, load_incidents
from evidence.readmodels.models import Deployment

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


class Samples(Sequence[Sample]):
    """The report's samples, made when first read. A figure needs only their values, so counting
    them costs nothing; a year of one environment is half a million samples, which the API pages."""

    def __init__(self, parts: list[tuple[int, Callable[[], list[Sample]]]]) -> None:
        self._parts = parts
        self._count = sum(n for n, _ in parts)
        self._made: list[Sample] | None = None

    def _all(self) -> list[Sample]:
        if self._made is None:
            with gc_paused():
                self._made = [s for _, make in self._parts for s in make()]
        return self._made

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Sample: ...
    @overload
    def __getitem__(self, index: slice) -> list[Sample]: ...
    def __getitem__(self, index: int | slice) -> Sample | list[Sample]:
        return self._all()[index]

    def __iter__(self) -> Iterator[Sample]:
        return iter(self._all())


@dataclass
class DoraReport:
    environment: str
    application: str | None
    since: datetime
    until: datetime
    bucket: str
    figures: dict[str, Figure]
    samples: Sequence[Sample]
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
    with gc_paused():
        return _Computation(environment, application, since, until, bucket).run()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Without the cycle collector while the figures are made: a year is a million small tuples,
    none in a cycle, and the collector walking them again and again took a fifth of the time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def hours(seconds: int | None) -> str | None:
    return None if seconds is None else str((Decimal(seconds) / 3600).quantize(Decimal("0.01")))


def _median_hours(values: Sequence[int | None]) -> str | None:
    return hours(bands.percentile([v for v in values if v is not None], 50))


class _Computation:
    """One report. Times are integer microseconds (`changes.Micros`) until a sample is made."""

    def __init__(self, environment: str, application: str | None, since: datetime, until: datetime, bucket: str):
        self.environment, self.application = environment, application
        self.since, self.until, self.bucket = since, until, bucket
        self.start, self.end = micros_of(since), micros_of(until)
        self.window = timedelta(hours=settings.DORA_FAILURE_WINDOW_HOURS) // timedelta(microseconds=1)
        self.hotfix = re.compile(settings.DORA_HOTFIX_PATTERN)
        self.revert = re.compile(settings.DORA_REVERT_PATTERN)
        self._kinds: dict[str, str] = {}
        self._reasons: dict[int, list[tuple[str, Pull | None]]] = {}
        self._commits: dict[int, tuple[str, str, list[str]]] | None = None
        self._everything: dict[int, list[Pull]] | None = None
        self._details: dict[int, Live] = {}
        self._period_whole: list[Live] | None = None

    def run(self) -> DoraReport:
        rows = Deployment.objects.filter(environment=self.environment)
        if self.application is not None:
            rows = rows.filter(application=self.application)
        self.rows = rows
        self.period_rows = rows.filter(finished_at__gte=self.since, finished_at__lt=self.until)
        # The live deployments of the period, four numbers and words each: the figures need no more,
        # and what came before the period decides none of them (a failure and what replaced or
        # restored it are both in it). Identities and entry seqs are read for the few that fail,
        # and for all only when samples are made.
        period = load_deployed(self.period_rows)
        attempts = rows.filter(outcome__in=ATTEMPTS).filter(
            Q(finished_at__gte=self.since, finished_at__lt=self.until)
            | Q(finished_at__isnull=True, started_at__gte=self.since, started_at__lt=self.until)
        )
        self.place: dict[int, tuple[list[Deployed], int]] = {}  # id -> (its application's series, index)
        by_app: dict[str, list[Deployed]] = defaultdict(list)
        for d in period:
            series = by_app[d.application]
            self.place[d.id] = (series, len(series))
            series.append(d)
        self.ats = [d.at for d in period]
        self._find_unplanned(period)
        self.incidents = load_incidents(self.environment, self.application, self.since, self.until)
        if self.incidents:
            # Joined by the rule over every live deployment up to the period's end.
            live = load_live(rows.filter(finished_at__lt=self.until))
            self._details.update((d.id, d) for d in live)
            self._join_incidents(live)

        parts: list[tuple[int, Callable[[], list[Sample]]]] = []
        figures = {
            "deployment_frequency": self._frequency(period, attempts.count(), parts),
            "change_lead_time": self._lead_time(period, parts),
        }
        failures = self._failures(period)
        figures["change_fail_rate"] = self._fail_rate(period, failures, parts)
        figures["recovery_time"] = self._recovery(failures, parts)
        figures["rework_rate"] = self._rework(period, parts)
        return DoraReport(
            self.environment,
            self.application,
            self.since,
            self.until,
            self.bucket,
            figures,
            Samples(parts),
            self.incidents,
        )

    # --- helpers ------------------------------------------------------------------------------
    def _kind_of(self, title: str) -> str:
        kind = self._kinds.get(title)
        if kind is None:
            kind = "revert" if self.revert.search(title) else "hotfix" if self.hotfix.search(title) else ""
            self._kinds[title] = kind
        return kind

    def _find_unplanned(self, period: list[Deployed]) -> None:
        """Per deployment of the period that was not planned, why: a rollback first, then each hotfix
        or revert it shipped, oldest merge first (each distinct title is matched once)."""
        for d in period:
            if d.outcome == "rolled_back":
                self._reasons[d.id] = [("rollback", None)]
        where = (self.environment, self.application, self.start, self.end)
        marked = sorted(t for t in shipped_titles(*where) if self._kind_of(t))
        if marked:
            for deployment_id, pull in shipped_titled(*where, marked):
                self._reasons.setdefault(deployment_id, []).append((self._kinds[pull[TITLE]], pull))

    def _unplanned(self, d: Deployed | Live) -> list[tuple[str, Pull | None]]:
        return self._reasons.get(d.id, [])

    def _detailed(self, ids: Any) -> dict[int, Live]:
        """The live deployments with these ids, whole (identity, entry seqs): one query for those not read yet."""
        missing = set(ids) - self._details.keys()
        for rows in among(self.rows, "id", missing, "bigint"):
            self._details.update((d.id, d) for d in load_live(rows))
        return self._details

    def _whole(self, period: list[Deployed]) -> list[Live]:
        """The period's deployments, whole, for its samples (read once, for every metric's)."""
        if self._period_whole is None:
            whole = {d.id: d for d in load_live(self.period_rows)}
            self._period_whole = [whole[d.id] for d in period]
        return self._period_whole

    def _trend(
        self, ats: list[int], value: Callable[[int, int, datetime, datetime], str | None]
    ) -> list[dict[str, Any]]:
        """Per bucket: value(lo, hi, start, end) of the samples ats[lo:hi] inside it (ats sorted)."""
        out = []
        for start, end in buckets(self.since, self.until, self.bucket):
            lo, hi = bisect_left(ats, micros_of(start)), bisect_left(ats, micros_of(end))
            out.append({"start": start.isoformat(), "value": value(lo, hi, start, end), "samples": hi - lo})
        return out

    # --- deployment frequency --------------------------------------------------------------------
    def _frequency(
        self, period: list[Deployed], attempts: int, out: list[tuple[int, Callable[[], list[Sample]]]]
    ) -> Figure:
        def make() -> list[Sample]:
            return [
                Sample(
                    "deployment_frequency",
                    moment(d.at),
                    d.identity,
                    1,
                    list(d.entry_seqs),
                    {"deployment": d.id, "application": d.application, "outcome": d.outcome},
                )
                for d in self._whole(period)
            ]

        out.append((len(period), make))

        def per_day(count: int, start: datetime, end: datetime) -> str | None:
            days = Decimal((end - start).total_seconds()) / 86400
            return str((Decimal(count) / days).quantize(Decimal("0.001"))) if days else None

        value = per_day(len(period), self.since, self.until) if period else None
        return Figure(
            "deployment_frequency",
            "deployments per day",
            value,
            bands.frequency_band(Decimal(value) if value else None),
            len(period),
            {"deployments": len(period), "attempts": attempts},
            self._trend(self.ats, lambda lo, hi, a, b: per_day(hi - lo, a, b) if hi > lo else None),
        )

    # --- change lead time ----------------------------------------------------------------------------
    def _lead_time(self, period: list[Deployed], out: list[tuple[int, Callable[[], list[Sample]]]]) -> Figure:
        periods = buckets(self.since, self.until, self.bucket)
        lead = lead_figures(
            self.environment,
            self.application,
            self.start,
            self.end,
            [(micros_of(start), micros_of(end)) for start, end in periods],
        )

        def make() -> list[Sample]:
            shipped, approved = shipped_rows(self.environment, self.application, self.start, self.end)
            samples = []
            for d in self._whole(period):
                for pull in shipped.get(d.id, ()):
                    if pull[OPENED] is not None:
                        samples.append(self._lead_sample(d, pull, approved.get(pull[ID])))
            return samples

        out.append((lead.evidenced, make))
        return Figure(
            "change_lead_time",
            "hours",
            hours(lead.median),
            bands.lead_time_band(lead.median),
            lead.evidenced,
            {
                "median": hours(lead.median),
                "p90": hours(lead.p90),
                "changes_shipped": lead.shipped,
                "not_evidenced": lead.shipped - lead.evidenced,
                "breakdown": {
                    "coding": {"median": None, "reason": "not evidenced: commit times are not recorded"},
                    **{k: {"median": hours(v)} for k, v in sorted(lead.breakdown.items()) if v is not None},
                },
                "start": "pull request opened",
            },
            [
                {"start": start.isoformat(), "value": hours(median), "samples": n}
                for (start, _), (n, median) in zip(periods, lead.trend, strict=True)
            ],
        )

    def _lead_sample(self, d: Live, pull: Pull, first: tuple[int, int] | None) -> Sample:
        at, opened, merged = d.at, pull[OPENED], pull[MERGED]
        detail: dict[str, Any] = {
            "deployment": d.id,
            "change": pull_name(pull),
            "coding": None,  # first commit times are not recorded by the harvests
            "review_to_first_approval": seconds_between(opened, first[0]) if first else None,
            "first_approval_to_merge": seconds_between(first[0], merged) if first else None,
            "review": seconds_between(opened, merged),
            "delivery": seconds_between(merged, at),
        }
        seqs = [*d.entry_seqs, pull[SEQ], *([first[1]] if first else [])]
        return Sample("change_lead_time", moment(at), pull_name(pull), seconds_between(opened, at), seqs, detail)

    # --- failures ---------------------------------------------------------------------------------------
    def _failures(self, period: list[Deployed]) -> dict[int, list[dict[str, Any]]]:
        """Per failed deployment in the period: each cause, with the entries that show it."""
        causes: dict[int, list[dict[str, Any]]] = defaultdict(list)
        ids = self.place
        degraded = [d.id for d in period if d.outcome == "degraded"]
        replaced = []  # (the deployment before, the one after that was not planned, why)
        for later, reasons in self._reasons.items():  # the deployment after a failure is in the period too
            series, i = self.place.get(later, ([], 0))
            if i:  # not the first of its application in the period
                replaced.append((series[i - 1], series[i], reasons))
        whole = self._detailed([*degraded, *(replacement.id for _, replacement, _ in replaced)])
        for deployment_id in degraded:
            causes[deployment_id].append({"cause": "degraded", "entry_seqs": list(whole[deployment_id].entry_seqs)})
        for before, brief, reasons in replaced:
            replacement = whole[brief.id]
            for kind, pull in reasons:
                if kind == "rollback":
                    causes[before.id].append(
                        {"cause": "rolled back", "by": replacement.id, "entry_seqs": list(replacement.entry_seqs)}
                    )
                elif replacement.at - before.at <= self.window:
                    assert pull is not None
                    causes[before.id].append(
                        {
                            "cause": f"followed by a {kind}",
                            "by": replacement.id,
                            "change": pull_name(pull),
                            "entry_seqs": [*replacement.entry_seqs, pull[SEQ]],
                        }
                    )
        for incident in self.incidents:
            if incident.joined_to in ids:
                causes[incident.joined_to].append(
                    {"cause": "incident", "incident": incident.key, "entry_seqs": list(incident.entry_seqs)}
                )
        return dict(causes)

    def _fail_rate(
        self,
        period: list[Deployed],
        failures: dict[int, list[dict[str, Any]]],
        out: list[tuple[int, Callable[[], list[Sample]]]],
    ) -> Figure:
        def make() -> list[Sample]:
            samples = []
            for d in self._whole(period):
                causes = failures.get(d.id, [])
                seqs = [*d.entry_seqs, *(s for c in causes for s in c["entry_seqs"])]
                detail = {"deployment": d.id, "failed": bool(causes), "causes": [_without_seqs(c) for c in causes]}
                samples.append(Sample("change_fail_rate", moment(d.at), d.identity, int(bool(causes)), seqs, detail))
            return samples

        out.append((len(period), make))
        flags = [1 if d.id in failures else 0 for d in period]
        rate = bands.ratio(sum(flags), len(flags))
        return Figure(
            "change_fail_rate",
            "ratio",
            bands.text(rate),
            bands.fail_rate_band(rate),
            len(period),
            {"failed": sum(flags), "deployments": len(period)},
            self._trend(self.ats, lambda lo, hi, a, b: bands.text(bands.ratio(sum(flags[lo:hi]), hi - lo))),
        )

    def _recovery(
        self, failures: dict[int, list[dict[str, Any]]], out: list[tuple[int, Callable[[], list[Sample]]]]
    ) -> Figure:
        mine: list[Sample] = []
        failed = []  # (failed deployment id, id of the one that restored it or None)
        for deployment_id, causes in sorted(failures.items()):
            if all(c["cause"] == "incident" for c in causes):
                continue  # the incident's own start and resolution measure it
            series, at = self.place[deployment_id]
            after = (series[i].id for i in range(at + 1, len(series)) if series[i].outcome != "degraded")
            failed.append((deployment_id, next(after, None)))
        whole = self._detailed(i for pair in failed for i in pair if i is not None)
        for deployment_id, restored_id in failed:
            d, restored = whole[deployment_id], None if restored_id is None else whole[restored_id]
            seqs = [*d.entry_seqs, *(restored.entry_seqs if restored else [])]
            value = seconds_between(d.at, restored.at) if restored else None
            detail: dict[str, Any] = {"deployment": d.id, "restored_by": restored.id if restored else None}
            mine.append(Sample("recovery_time", moment(d.at), d.identity, value, seqs, detail))
        for incident in self.incidents:
            value = (
                seconds_between(micros_of(incident.started_at), micros_of(incident.resolved_at))
                if incident.resolved_at
                else None
            )
            detail = {
                "incident": incident.key,
                "deployment": incident.joined_to,
                "resolved": incident.resolved_at is not None,
            }
            mine.append(
                Sample("recovery_time", incident.started_at, incident.key, value, list(incident.entry_seqs), detail)
            )
        mine.sort(key=lambda s: (s.at, s.subject))
        out.append((len(mine), lambda: mine))
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
            self._trend(
                [micros_of(s.at) for s in mine], lambda lo, hi, a, b: _median_hours([s.value for s in mine[lo:hi]])
            ),
        )

    def _rework(self, period: list[Deployed], out: list[tuple[int, Callable[[], list[Sample]]]]) -> Figure:
        def make() -> list[Sample]:
            samples = []
            for d in self._whole(period):
                reasons = self._unplanned(d)
                seqs = [*d.entry_seqs, *(p[SEQ] for _, p in reasons if p is not None)]
                detail = {"deployment": d.id, "unplanned": [k + (f" {pull_name(p)}" if p else "") for k, p in reasons]}
                samples.append(Sample("rework_rate", moment(d.at), d.identity, int(bool(reasons)), seqs, detail))
            return samples

        out.append((len(period), make))
        flags = [1 if d.id in self._reasons else 0 for d in period]
        rate = bands.ratio(sum(flags), len(flags))
        return Figure(
            "rework_rate",
            "ratio",
            bands.text(rate),
            None,  # the 2024 edition publishes no bands for rework rate
            len(period),
            {"unplanned": sum(flags), "deployments": len(period), "band_note": "no published band"},
            self._trend(self.ats, lambda lo, hi, a, b: bands.text(bands.ratio(sum(flags[lo:hi]), hi - lo))),
        )

    # --- incidents ---------------------------------------------------------------------------------------
    def _shipped_ever(self) -> dict[int, list[Pull]]:
        """What every live deployment up to the period's end shipped (read only when an incident names a commit)."""
        if self._everything is None:
            self._everything = shipped_rows(self.environment, self.application, None, self.end)[0]
        return self._everything

    def _pull_commits(self) -> dict[int, tuple[str, str, list[str]]]:
        """The commits of every change shipped (read only when an incident names a commit)."""
        if self._commits is None:
            self._commits = landed_as({p[ID] for pulls in self._shipped_ever().values() for p in pulls})
        return self._commits

    def _join_incidents(self, live: list[Live]) -> None:
        """The join rule of `incidents`: named deployment, else blamed commit, else live at start."""
        if not self.incidents:
            return
        by_identity = {d.identity: d for d in live} | {str(d.id): d for d in live}
        for incident in self.incidents:
            if incident.deployment:
                named = by_identity.get(incident.deployment)
                if named is not None:
                    incident.joined_to, incident.joined_by = named.id, "named"
                continue  # a named deployment we do not know joins nothing, never a guess
            candidates = [d for d in live if not incident.application or d.application == incident.application]
            if incident.commit:
                listed, ever = self._pull_commits(), self._shipped_ever()
                for d in candidates:
                    commits = set(revision_shas(d.revision))
                    for p in ever.get(d.id, ()):
                        merge, squash, more = listed[p[ID]]
                        commits |= {c for c in (merge, squash, *more) if c}
                    if incident.commit in {c.lower() for c in commits if c}:
                        incident.joined_to, incident.joined_by = d.id, "commit"
                        break
                continue
            if not incident.application:
                continue
            started = micros_of(incident.started_at)
            live_then = [d for d in candidates if d.at <= started]
            if live_then:
                incident.joined_to, incident.joined_by = live_then[-1].id, "live at start"


def _without_seqs(cause: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cause.items() if k != "entry_seqs"}
