"""manage.py dora --environment prod [--application A] [--since T] [--until T] [--bucket week|month]
[--json]: the five DORA figures with their bands, the trend, and (with --json) every sample and
the entry seqs it cites, as GET /api/v1/dora/ gives them."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evidence.compliance.dora import METRICS, dora_figures
from evidence.compliance.dora.query import BadQuery, parse_query
from evidence.compliance.dora.text import LABELS, figure_lines


class Command(BaseCommand):
    help = "Print an environment's DORA metrics over a period, with their bands and trend."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--environment", help="Environment, e.g. prod (required)")
        parser.add_argument("--application", help="One application only")
        parser.add_argument("--since", help="ISO 8601 (default: 90 days before --until)")
        parser.add_argument("--until", help="ISO 8601 (default: now)")
        parser.add_argument("--bucket", default="week", help="Trend by week or month")
        parser.add_argument("--json", action="store_true", help="Everything, samples included, as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            q = parse_query(
                options["environment"], options["application"], options["since"], options["until"], options["bucket"]
            )
        except BadQuery as exc:
            raise CommandError(f"dora: {exc}", returncode=2) from None
        report = dora_figures(q.environment, q.since, q.until, q.application, q.bucket)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), indent=2, sort_keys=True))
            return
        for line in figure_lines(report):
            self.stdout.write(line)
        self.stdout.write(f"Trend by {q.bucket}:")
        for name in METRICS:
            points = ", ".join(
                f"{t['start'][:10]} {t['value'] if t['value'] is not None else '-'}" for t in report.figures[name].trend
            )
            self.stdout.write(f"  {LABELS[name]}: {points}")
