"""Protection history of one branch on a time axis: each recorded change as an event, and the
coverage as bands, observed or not observed, judged as custody judges a merge: a stretch between
two harvests that saw the same settings, no further apart than custody's observation window, is
observed; a stretch where the settings changed between two harvests (the moment is unknown), a
longer silence, and the time before the first and after the last harvest are not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from evidence.compliance.custody.load import OBSERVATION_WINDOW
from evidence.core.wording import describe_value, label
from evidence.readmodels.models import ProtectionObservation, ProtectionSnapshot

OBSERVED, NOT_OBSERVED = "observed", "not_observed"


@dataclass
class Event:
    """A recorded change of the settings (or the first sighting)."""

    at: datetime
    changes: list[tuple[str, str, str]]  # (setting label, before, after) in words
    entry_seq: int
    left: float = 0.0  # position on the axis, percent


@dataclass
class Band:
    start: datetime
    end: datetime
    kind: str  # observed or not_observed
    why: str
    entry_seqs: list[int] = field(default_factory=list)
    left: float = 0.0
    width: float = 0.0


@dataclass
class History:
    events: list[Event]
    bands: list[Band]
    start: datetime
    end: datetime


def settings_changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """Settings that differ between two snapshots, in words (a non-dict, e.g. 'unknown', is one value)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [] if before == after else [("Settings", describe_value(before), describe_value(after))]
    keys = sorted(before.keys() | after.keys())
    return [
        (label(k), describe_value(before.get(k, "absent")), describe_value(after.get(k, "absent")))
        for k in keys
        if before.get(k) != after.get(k)
    ]


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:.0f} days" if days >= 2 else f"{delta.total_seconds() / 3600:.0f} hours"


def coverage_bands(observations: list[ProtectionObservation], now: datetime) -> list[Band]:
    """Bands between consecutive observations, adjacent bands of one kind merged."""
    bands: list[Band] = []

    def add(start: datetime, end: datetime, kind: str, why: str, seqs: list[int]) -> None:
        if end <= start:
            return
        last = bands[-1] if bands else None
        if last is not None and last.kind == kind and last.end == start and (kind == OBSERVED or last.why == why):
            last.end, last.entry_seqs = end, [*last.entry_seqs, *seqs]
            return
        bands.append(Band(start, end, kind, why, seqs))

    for a, b in pairwise(observations):
        apart, seqs = b.observed_at - a.observed_at, [a.entry_seq, b.entry_seq]
        if a.content_hash != b.content_hash:
            add(a.observed_at, b.observed_at, NOT_OBSERVED, "changed between these harvests", seqs)
        elif apart > OBSERVATION_WINDOW:
            add(a.observed_at, b.observed_at, NOT_OBSERVED, f"nobody looked for {_days(apart)}", seqs)
        else:
            add(a.observed_at, b.observed_at, OBSERVED, "harvests saw the same settings", seqs)
    if observations and now > observations[-1].observed_at:
        last = observations[-1]
        add(last.observed_at, now, NOT_OBSERVED, "no harvest has looked since", [last.entry_seq])
    for band in bands:
        band.entry_seqs = sorted(set(band.entry_seqs))
        if band.kind == OBSERVED and len(band.entry_seqs) > 2:
            band.entry_seqs = [band.entry_seqs[0], band.entry_seqs[-1]]  # the harvests at either end
    return bands


def protection_history(forge: str, repository: str, branch: str, now: datetime | None = None) -> History:
    now = now or datetime.now(UTC)
    key = {"forge": forge, "repository": repository, "branch": branch}
    events: list[Event] = []
    previous: Any = None
    for snap in ProtectionSnapshot.objects.filter(**key).order_by("observed_at", "entry_seq"):
        if previous is None:
            changes = [("First seen", "", "; ".join(f"{label(k)}: {describe_value(v)}" for k, v in _items(snap)))]
        else:
            changes = settings_changes(previous, snap.settings)
        events.append(Event(snap.observed_at, changes, snap.entry_seq))
        previous = snap.settings
    observations = list(
        ProtectionObservation.objects.filter(**key)
        .order_by("observed_at", "entry_seq")
        .only("observed_at", "content_hash", "entry_seq")
    )
    bands = coverage_bands(observations, now)
    moments = [e.at for e in events] + [b.start for b in bands] + [b.end for b in bands]
    start, end = (min(moments), max(moments)) if moments else (now, now)
    span = (end - start).total_seconds() or 1.0
    for e in events:
        e.left = round(100 * (e.at - start).total_seconds() / span, 2)
    for b in bands:
        b.left = round(100 * (b.start - start).total_seconds() / span, 2)
        b.width = round(100 * (b.end - b.start).total_seconds() / span, 2)
    return History(events, bands, start, end)


def _items(snap: ProtectionSnapshot) -> list[tuple[str, Any]]:
    return sorted(snap.settings.items()) if isinstance(snap.settings, dict) else [("settings", snap.settings)]


def timeline_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("readmodels.view_protectionsnapshot"):
        raise PermissionDenied
    branches = ProtectionSnapshot.objects.values_list("forge", "repository", "branch").distinct()
    branches = sorted(set(branches))
    chosen = (request.GET.get("forge", ""), request.GET.get("repository", ""), request.GET.get("branch", ""))
    history = protection_history(*chosen) if chosen in branches else None
    context = {
        **admin.site.each_context(request),
        "title": "Protection history",
        "opts": ProtectionSnapshot._meta,
        "branches": branches,
        "chosen": chosen if history is not None else None,
        "history": history,
        "window_days": OBSERVATION_WINDOW.days,
    }
    return TemplateResponse(request, "admin/readmodels/protectionsnapshot/timeline.html", context)
