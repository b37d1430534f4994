"""History that rolled over unseen between harvests."""

from __future__ import annotations

from evidence.readmodels.models import DeploymentGap
from evidence.readmodels.projectors import projects
from evidence.sources.controllers.argocd import parse_time
from ledger.models import Entry


@projects("deploy.gap")
def project_gap(entry: Entry) -> None:
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
            "after": parse_time(data.get("after")),
            "before": parse_time(data.get("before")),
        },
    )
