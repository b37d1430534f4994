"""Protection history of one branch as a timeline: each recorded change with what changed, and the
stretches nobody looked (gaps between harvests' observations longer than the source's schedule allows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from evidence.readmodels.models import ProtectionObservation, ProtectionSnapshot
from evidence.sources.models import Source

DEFAULT_SCHEDULE = 3600  # seconds, as Source.schedule's default
LATE_FACTOR = 2  # one missed harvest is late; two is a gap in observation


@dataclass
class TimelineRow:
    at: datetime
    kind: str  # "change" (a snapshot recorded) or "gap" (unobserved stretch)
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (setting, before, after)
    until: datetime | None = None
    entry_seqs: list[int] = field(default_factory=list)


def settings_changes(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """Settings that differ between two snapshots (a non-dict, e.g. 'unknown', counts as one value)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [] if before == after else [("settings", before, after)]
    keys = sorted(before.keys() | after.keys())
    return [(k, before.get(k, "absent"), after.get(k, "absent")) for k in keys if before.get(k) != after.get(k)]


def protection_timeline(forge: str, repository: str, branch: str) -> list[TimelineRow]:
    key = {"forge": forge, "repository": repository, "branch": branch}
    rows: list[TimelineRow] = []
    previous: Any = None
    for snap in ProtectionSnapshot.objects.filter(**key).order_by("observed_at", "entry_seq"):
        changes = settings_changes(previous, snap.settings) if previous is not None else [("first seen", "", "")]
        rows.append(TimelineRow(snap.observed_at, "change", changes, entry_seqs=[snap.entry_seq]))
        previous = snap.settings
    schedules = dict(Source.objects.values_list("name", "schedule"))
    observations = ProtectionObservation.objects.filter(**key).order_by("observed_at", "entry_seq")
    last = None
    for obs in observations.only("observed_at", "source", "entry_seq"):
        allowed = timedelta(seconds=LATE_FACTOR * schedules.get(obs.source, DEFAULT_SCHEDULE))
        if last is not None and obs.observed_at - last.observed_at > allowed:
            rows.append(
                TimelineRow(last.observed_at, "gap", until=obs.observed_at, entry_seqs=[last.entry_seq, obs.entry_seq])
            )
        last = obs
    return sorted(rows, key=lambda r: (r.at, r.kind == "change"))


def timeline_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("readmodels.view_protectionsnapshot"):
        raise PermissionDenied
    branches = ProtectionSnapshot.objects.values_list("forge", "repository", "branch").distinct()
    branches = sorted(set(branches))
    chosen = (request.GET.get("forge", ""), request.GET.get("repository", ""), request.GET.get("branch", ""))
    timeline = protection_timeline(*chosen) if chosen in branches else None
    context = {
        **admin.site.each_context(request),
        "title": "Protection history",
        "opts": ProtectionSnapshot._meta,
        "branches": branches,
        "chosen": chosen if timeline is not None else None,
        "timeline": timeline,
    }
    return TemplateResponse(request, "admin/readmodels/protectionsnapshot/timeline.html", context)
