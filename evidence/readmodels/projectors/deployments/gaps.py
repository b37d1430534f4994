"""History that rolled over unseen, derived from the ledger: controller history no entry recorded.

Harvesters never conclude "gap"; they record what the controller listed. The gaps follow from
the entries alone, so they do not depend on when the projector ran (a harvest while it lagged
behind a webhook delivery makes no gap) and `rebuild_projections` gives the same rows:

- Argo CD history ids and Helm release versions are consecutive per object (each sync or release
  takes the last one + 1), so a number between two recorded ones that no entry (harvest or
  webhook) recorded rolled over unseen. Numbers below the first one recorded are not gaps: they
  predate the evidence. The gap cites the earliest entry that recorded the number after it.
- Kustomization history items carry no number: when a full history (5 items) no longer lists the
  newest item of the object's previous record, the reconciliations in between may have dropped
  out; a gap unless some entry (an event) shows a deployment started in between. It cites the
  record that showed the rollover.

Derived from the rows of earlier entries and of this one: these projectors run after the
deployment projectors of the same kinds (this module imports theirs first), and a later entry
(a late webhook delivery or event) that fills a gap removes it.

Ledgers from before gaps were derived hold `deploy.gap` entries the harvesters wrote; they are
still projected as written, and a derived gap over the same history is not added a second time.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from evidence.core.times import parse_time
from evidence.readmodels.models import Deployment, DeploymentGap
from evidence.readmodels.projectors import projects
from evidence.readmodels.projectors.deployments import argocd, flux  # noqa: F401  (registered before these)
from evidence.sources.controllers.history import (
    ARGOCD_HISTORY_KINDS,
    FLUX_HISTORY_KEPT,
    HELM_KINDS,
    argocd_history_ids,
    helm_versions,
)
from ledger.models import Entry

HELM_VERSION = re.compile(r"v(\d+)")  # Deployment.external_id of a Helm release


@dataclass
class Gap:
    controller: str
    environment: str
    application: str
    missing: list[Any]
    after: datetime | None
    before: datetime | None
    entry_seq: int


@projects("deploy.gap")
def project_gap(entry: Entry) -> None:
    """A gap a harvester recorded (ledgers from before gaps were derived)."""
    data = entry.data
    DeploymentGap.objects.get_or_create(
        entry_seq=entry.seq,
        defaults={
            "controller": data.get("controller", ""),
            "source": entry.source,
            "subject": entry.subject,
            "environment": data.get("environment", ""),
            "application": data.get("application", ""),
            "missing": data.get("missing", []),
            "after": parse_time(data.get("after"), lenient=True),
            "before": parse_time(data.get("before"), lenient=True),
        },
    )
    if entry.subject.startswith("flux:") and "/Kustomization/" in entry.subject:
        _refresh_windows(entry.source, entry.subject, None)
    elif entry.subject.startswith(("argocd:", "flux:")):
        _refresh_numbered(entry.source, entry.subject)


@projects(*ARGOCD_HISTORY_KINDS)
def project_argocd_gaps(entry: Entry) -> None:
    _refresh_numbered(entry.source, entry.subject)


@projects(*HELM_KINDS, "flux.kustomization")
def project_flux_gaps(entry: Entry) -> None:
    if "/HelmRelease/" in entry.subject:
        _refresh_numbered(entry.source, entry.subject)
    elif "/Kustomization/" in entry.subject:
        _refresh_windows(entry.source, entry.subject, entry if entry.kind == "flux.kustomization" else None)


def _refresh_numbered(source: str, subject: str) -> None:
    """Re-derive the gaps between recorded Argo CD history ids or Helm release versions of one object."""
    if subject.startswith("argocd:"):
        controller, kinds, number, numbers_in = "argocd", ARGOCD_HISTORY_KINDS, _int, argocd_history_ids
    else:
        controller, kinds, number, numbers_in = "flux", HELM_KINDS, _helm_version, helm_versions
    rows = Deployment.objects.filter(controller=controller, source=source, subject=subject).exclude(external_id="")
    first: dict[int, tuple[int, int]] = {}  # number -> (first_seq, row id) of the row that recorded it first
    for row_id, external_id, first_seq in rows.values_list("id", "external_id", "first_seq"):
        n = number(external_id)
        if n is not None and (n not in first or (first_seq, row_id) < first[n]):
            first[n] = (first_seq, row_id)
    ordered = sorted(first)
    holes = [(lo, hi) for lo, hi in itertools.pairwise(ordered) if hi > lo + 1]
    by_id = Deployment.objects.in_bulk([first[n][1] for hole in holes for n in hole])
    found: list[Gap] = []
    for lo, hi in holes:
        below, above = by_id[first[lo][1]], by_id[first[hi][1]]
        found.append(
            Gap(
                controller,
                above.environment,
                above.application,
                list(range(lo + 1, hi)),
                below.finished_at or below.started_at,
                above.started_at,
                _recorded_by(above, hi, kinds, numbers_in),
            )
        )
    _replace(source, subject, found)


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _helm_version(value: str) -> int | None:
    match = HELM_VERSION.fullmatch(value)
    return int(match.group(1)) if match else None


def _recorded_by(
    row: Deployment, n: int, kinds: Iterable[str], numbers_in: Callable[[str, dict[str, Any]], set[int]]
) -> int:
    """The earliest entry behind the row whose data records number n (the row's first entry if none)."""
    for entry in Entry.objects.filter(seq__in=row.entry_seqs, kind__in=list(kinds)).order_by("seq"):
        if n in numbers_in(entry.kind, entry.data):
            return entry.seq
    return row.first_seq


def _refresh_windows(source: str, subject: str, entry: Entry | None) -> None:
    """Kustomization: the record `entry` may show a rollover since the object's previous record,
    and any entry may show a deployment inside an earlier window, which then is no gap."""
    explicit = _explicit(source, subject)
    found = [
        Gap(row.controller, row.environment, row.application, row.missing, row.after, row.before, row.entry_seq)
        for row in DeploymentGap.objects.filter(source=source, subject=subject).exclude(entry_seq__in=explicit)
    ]
    if entry is not None and not any(gap.entry_seq == entry.seq for gap in found):
        found += _window(entry)
    _replace(source, subject, [gap for gap in found if not _covered(source, subject, gap.after, gap.before)])


def _window(entry: Entry) -> list[Gap]:
    data = entry.data
    history = _history(data)
    if len(history) < FLUX_HISTORY_KEPT:
        return []  # nothing dropped out
    earlier = Entry.objects.filter(kind="flux.kustomization", source=entry.source, subject=entry.subject)
    previous = next(
        (h for e in earlier.filter(seq__lt=entry.seq).order_by("-seq").iterator() if (h := _history(e.data))), None
    )
    if previous is None:
        return []  # the first record of the object's history: nothing known before it
    newest = max(previous, key=lambda h: str(h.get("firstReconciled") or ""))
    if any(h.get("digest") == newest.get("digest") for h in history):
        return []  # the newest item we knew is still listed
    after = parse_time(newest.get("firstReconciled"), lenient=True)
    before = parse_time(min(str(h.get("firstReconciled") or "") for h in history), lenient=True)
    if after is None or before is None:
        return []
    environment, application = str(data.get("environment") or ""), str(data.get("application") or "")
    # how many were dropped cannot be known: reconciliations carry no sequence number
    return [Gap("flux", environment, application, ["unknown"], after, before, entry.seq)]


def _history(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for h in (data.get("status") or {}).get("history") or [] if isinstance(h, dict)]


def _covered(source: str, subject: str, after: datetime | None, before: datetime | None) -> bool:
    """Whether some deployment of the object is known to have started between after and before."""
    if after is None or before is None:
        return False
    rows = Deployment.objects.filter(source=source, subject=subject, started_at__gt=after, started_at__lt=before)
    return rows.exists()


def _explicit(source: str, subject: str) -> list[int]:
    """Seqs of the object's `deploy.gap` entries (gaps harvesters recorded before gaps were derived)."""
    return list(Entry.objects.filter(kind="deploy.gap", source=source, subject=subject).values_list("seq", flat=True))


def _replace(source: str, subject: str, found: list[Gap]) -> None:
    """Make the object's derived gap rows exactly `found`, leaving out any that a recorded
    `deploy.gap` row already states."""
    rows = {row.entry_seq: row for row in DeploymentGap.objects.filter(source=source, subject=subject)}
    explicit = set(_explicit(source, subject))
    wanted: dict[int, Gap] = {}
    for gap in found:
        if any(_overlaps(rows[seq], gap) for seq in explicit if seq in rows):
            continue
        if gap.entry_seq in wanted:  # one entry showing two holes (a controller that skipped numbers)
            wanted[gap.entry_seq].missing += gap.missing
            wanted[gap.entry_seq].before = gap.before
            continue
        wanted[gap.entry_seq] = gap
    for seq, row in rows.items():
        if seq not in explicit and seq not in wanted:
            row.delete()
    for seq, gap in wanted.items():
        values = {k: v for k, v in asdict(gap).items() if k != "entry_seq"}
        row = rows.get(seq)
        if row is None:
            DeploymentGap.objects.create(source=source, subject=subject, entry_seq=seq, **values)
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.save()


def _overlaps(row: DeploymentGap, gap: Gap) -> bool:
    """Whether a recorded gap states the same loss: a history number in common, or the same window."""
    numbered = [m for m in row.missing if isinstance(m, int)]
    if numbered and all(isinstance(m, int) for m in gap.missing):
        return bool(set(numbered) & set(gap.missing))
    return row.before == gap.before
