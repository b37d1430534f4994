"""History that rolled over unseen between harvests."""

from __future__ import annotations

from evidence.harvesters.argocd import parse_time
from evidence.models import DeploymentGap
from ledger.models import Entry

from .. import projects


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
