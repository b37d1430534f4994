"""History that rolled over unseen between harvests."""

from __future__ import annotations

from evidence.core.times import parse_time
from evidence.readmodels.models import DeploymentGap
from evidence.readmodels.projectors import projects
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
            "after": parse_time(data.get("after"), lenient=True),
            "before": parse_time(data.get("before"), lenient=True),
        },
    )
