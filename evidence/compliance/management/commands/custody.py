"""manage.py custody <deployment id> [--json]: the chain of custody of a deployment, as a table,
ending with its verdict. manage.py custody --environment prod [--since T] [--until T] [--json]:
the verdicts of the deployments to an environment in a period, and the compliance rate."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evidence.compliance.custody import build_custody
from evidence.compliance.custody.chain import REASONS
from evidence.compliance.custody.verdict import Tally, tally
from evidence.compliance.models import DeploymentVerdict
from evidence.readmodels.models import Deployment

MARK = {"satisfied": "ok", "violated": "VIOLATED", "not_evidenced": "NOT EVIDENCED"}


class Command(BaseCommand):
    help = "Print a deployment's chain of custody: each link, its status, the entries that prove it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "deployment", nargs="?", help="Deployment id (see /api/v1/deployments/ or `manage.py running`)"
        )
        parser.add_argument("--json", action="store_true", help="Print the chain (or the figures) as JSON")
        parser.add_argument("--environment", help="Without a deployment: the verdicts in this environment")
        parser.add_argument("--since", help="With --environment: deployed at or after (ISO 8601)")
        parser.add_argument("--until", help="With --environment: deployed before (ISO 8601)")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options["deployment"]
        if raw is None:
            if not options["environment"]:
                raise CommandError("custody: give a deployment id, or --environment for the period's verdicts")
            self.summary(options)
            return
        if not str(raw).isdigit():
            raise CommandError(f"custody: deployment {raw!r} is not an id (a whole number)")
        deployment = Deployment.objects.filter(pk=int(raw)).first()
        if deployment is None:
            raise CommandError(f"custody: no deployment with id {raw}")
        chain = build_custody(deployment)
        now = datetime.now(UTC)
        if options["json"]:
            self.stdout.write(json.dumps(chain.as_json(now), indent=2, sort_keys=True))
            return
        self.stdout.write(
            f"Deployment {chain.deployment_id}: {chain.application} in {chain.environment} at "
            f"{chain.deployed_at:%Y-%m-%d %H:%M} UTC, revision {chain.revision or '(none)'}"
        )
        rows = [("PATH", "LINK", "STATUS", "SUBJECT", "ENTRIES", "EXPLANATION")]
        for link in chain.links:
            subject = link.subject if len(link.subject) <= 30 else link.subject[:27] + "..."
            seqs = ",".join(map(str, sorted(set(link.entry_seqs)))) or "-"
            status = MARK[link.status] + (f" ({REASONS[link.reason]})" if link.reason in REASONS else "")
            rows.append((link.path, link.name, status, subject, seqs, link.explanation))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        indent = sum(widths) + 2 * 5
        for row in rows:
            head = "  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True))
            lines = textwrap.wrap(row[5], 70) or [""]
            self.stdout.write(f"{head}  {lines[0]}")
            for line in lines[1:]:
                self.stdout.write(" " * indent + line)
        self.stdout.write("")
        if not chain.findings:
            self.stdout.write("Findings: none.")
        else:
            self.print_findings(chain, now)
        self.stdout.write(f"Verdict: {chain.verdict}. {chain.verdict_reason}")

    def summary(self, options: dict[str, Any]) -> None:
        environment = options["environment"]
        rows = DeploymentVerdict.objects.filter(environment=environment)
        for name, lookup in (("since", "deployed_at__gte"), ("until", "deployed_at__lt")):
            if options[name]:
                rows = rows.filter(**{lookup: _moment(name, options[name])})
        figures = tally(rows.values_list("environment", "verdict")).get(environment) or Tally().as_json()
        if options["json"]:
            self.stdout.write(json.dumps({environment: figures}, indent=2, sort_keys=True))
            return
        period = f" from {options['since'] or 'the start'} until {options['until'] or 'now'}"
        self.stdout.write(
            f"{environment}{period}: {figures['deployments']} deployment(s) judged: {figures['compliant']} compliant, "
            f"{figures['exception']} exception, {figures['incomplete']} incomplete evidence; "
            f"{figures['attempts']} attempt(s) not judged. Compliance rate: {figures['compliance_rate'] or 'n/a'}."
        )

    def print_findings(self, chain: Any, now: datetime) -> None:
        self.stdout.write(f"Findings ({len(chain.findings)}):")
        for f in chain.findings:
            status = f.status_at(now)
            accepted = (
                f" (accepted by {f.accepted_by} until {f.accepted_until:%Y-%m-%d})" if status == "accepted" else ""
            )
            self.stdout.write(f"  [{f.severity}] {f.code}{accepted}: {f.explanation}")
            self.stdout.write(f"      entries {', '.join(map(str, f.entry_seqs))}; {'; '.join(f.controls)}")


def _moment(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"custody: --{name} {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
