"""Incidents as evidence, and the one rule that joins each to a deployment.

Incidents come from ledger entries only:
- `incident.report` entries (POST /hooks/incident/, signed): the latest entry per incident id stands;
- `github.webhook` `issues` deliveries and `gitlab.webhook` issue deliveries whose issue carries the
  label DORA_INCIDENT_LABEL. Labels `environment:<name>` (else DORA_INCIDENT_ENVIRONMENT) and
  `application:<name>` place it; the latest delivery per issue stands.

The join (docs/dora.md): an incident that names a deployment (identity or id) is joined to it; one
that names a commit is joined to the first live deployment in its environment (and application,
when given) that shipped or named that commit; otherwise to the deployment of its application
live in its environment at its start. Without an application and a named deployment or commit it
joins none: it still counts for recovery time, and the report lists it as not joined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from evidence.core.times import parse_time
from ledger.models import Entry

# Issue deliveries are read from this long before the period (an issue opened earlier, closed in it).
LOOKBACK = timedelta(days=90)


@dataclass
class Incident:
    key: str  # incident:<id>, github:<repo>#<n>, gitlab:<project>#<iid>
    environment: str
    application: str
    started_at: datetime
    resolved_at: datetime | None
    deployment: str = ""  # named by the report
    commit: str = ""
    title: str = ""
    url: str = ""
    entry_seqs: list[int] = field(default_factory=list)
    joined_to: int | None = None  # Deployment id, by the rule above
    joined_by: str = ""  # named, commit, live at start

    def as_json(self) -> dict[str, Any]:
        return {
            "incident": self.key,
            "environment": self.environment,
            "application": self.application or None,
            "started_at": self.started_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "deployment": self.joined_to,
            "joined_by": self.joined_by or "not joined",
            "title": self.title,
            "entry_seqs": sorted(self.entry_seqs),
        }


def load_incidents(environment: str, application: str | None, since: datetime, until: datetime) -> list[Incident]:
    """Incidents in the environment (and application) that started in [since, until)."""
    found: dict[str, Incident] = {}
    reports = Entry.objects.filter(kind="incident.report", occurred_at__lt=until).order_by("seq")
    for entry in reports:
        incident = _from_report(entry)
        if incident is not None:
            found[incident.key] = _merge(found.get(incident.key), incident)
    if settings.DORA_INCIDENT_LABEL:
        issues = Entry.objects.filter(
            kind__in=("github.webhook", "gitlab.webhook"), observed_at__gte=since - LOOKBACK
        ).order_by("seq")
        for entry in issues:
            incident = _from_issue(entry)
            if incident is not None:
                found[incident.key] = _merge(found.get(incident.key), incident)
    return sorted(
        (
            i
            for i in found.values()
            if i.environment == environment
            and (application is None or i.application == application)
            and since <= i.started_at < until
        ),
        key=lambda i: (i.started_at, i.key),
    )


def _merge(before: Incident | None, latest: Incident) -> Incident:
    """The latest entry stands; every entry about the incident is cited."""
    if before is not None:
        latest.entry_seqs = sorted({*before.entry_seqs, *latest.entry_seqs})
    return latest


def _from_report(entry: Entry) -> Incident | None:
    body = entry.data.get("incident") or {}
    started = parse_time(body.get("started_at"), to_utc=True, lenient=True)
    if started is None or not body.get("id") or not body.get("environment"):
        return None
    return Incident(
        key=f"incident:{body['id']}",
        environment=str(body["environment"]),
        application=str(body.get("application") or ""),
        started_at=started,
        resolved_at=parse_time(body.get("resolved_at"), to_utc=True, lenient=True),
        deployment=str(body.get("deployment") or ""),
        commit=str(body.get("commit") or "").lower(),
        title=str(body.get("title") or ""),
        url=str(body.get("url") or ""),
        entry_seqs=[entry.seq],
    )


def _from_issue(entry: Entry) -> Incident | None:
    data = entry.data
    try:
        body = json.loads(data.get("body") or "{}")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if entry.kind == "github.webhook":
        if data.get("event") != "issues" or not isinstance(body.get("issue"), dict):
            return None
        issue = body["issue"]
        labels = [str(label.get("name", "")) for label in issue.get("labels") or [] if isinstance(label, dict)]
        key = f"github:{data.get('repository')}#{issue.get('number')}"
        opened, closed = issue.get("created_at"), issue.get("closed_at")
        title, url = issue.get("title"), issue.get("html_url")
    else:
        attributes = body.get("object_attributes")
        if body.get("object_kind") != "issue" or not isinstance(attributes, dict):
            return None
        labels = [str(label.get("title", "")) for label in body.get("labels") or [] if isinstance(label, dict)]
        key = f"gitlab:{data.get('repository')}#{attributes.get('iid')}"
        opened, closed = attributes.get("created_at"), attributes.get("closed_at")
        title, url = attributes.get("title"), attributes.get("url")
    if settings.DORA_INCIDENT_LABEL not in labels:
        return None
    started = _forge_time(opened)
    if started is None:
        return None
    return Incident(
        key=key,
        environment=_label(labels, "environment", "env") or settings.DORA_INCIDENT_ENVIRONMENT,
        application=_label(labels, "application", "app") or "",
        started_at=started,
        resolved_at=_forge_time(closed),
        title=str(title or ""),
        url=str(url or ""),
        entry_seqs=[entry.seq],
    )


def _label(labels: list[str], *prefixes: str) -> str:
    for label in labels:
        name, sep, value = label.partition(":")
        if sep and name.strip().lower() in prefixes and value.strip():
            return value.strip()
    return ""


def _forge_time(value: Any) -> datetime | None:
    """ISO 8601 (GitHub) or GitLab's '2026-03-02 10:00:00 UTC'."""
    moment = parse_time(value, to_utc=True, lenient=True)
    if moment is None and isinstance(value, str) and value.endswith(" UTC"):
        moment = parse_time(value.removesuffix(" UTC").replace(" ", "T") + "Z", to_utc=True, lenient=True)
    return moment
