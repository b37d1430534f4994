"""manage.py custody <deployment id> [--json]: the chain of custody of a deployment, as a table."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evidence.compliance.custody import build_custody
from evidence.compliance.custody.chain import REASONS
from evidence.readmodels.models import Deployment

MARK = {"satisfied": "ok", "violated": "VIOLATED", "not_evidenced": "NOT EVIDENCED"}


class Command(BaseCommand):
    help = "Print a deployment's chain of custody: each link, its status, the entries that prove it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("deployment", help="Deployment id (see /api/v1/deployments/ or `manage.py running`)")
        parser.add_argument("--json", action="store_true", help="Print the chain as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options["deployment"]
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

    def print_findings(self, chain: Any, now: datetime) -> None:
        self.stdout.write(f"Findings ({len(chain.findings)}):")
        for f in chain.findings:
            status = f.status_at(now)
            accepted = (
                f" (accepted by {f.accepted_by} until {f.accepted_until:%Y-%m-%d})" if status == "accepted" else ""
            )
            self.stdout.write(f"  [{f.severity}] {f.code}{accepted}: {f.explanation}")
            self.stdout.write(f"      entries {', '.join(map(str, f.entry_seqs))}; {'; '.join(f.controls)}")
