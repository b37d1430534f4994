import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.monitor import api_token, run_monitor
from ledger.note import NoteError, parse_verifiers


class Command(BaseCommand):
    help = (
        "Fetch a deployment's checkpoints (its API), check each against the last one seen with a consistency "
        "proof, and exit non-zero on a split view, a rollback or a bad signature. API token from "
        "LEDGER_MONITOR_TOKEN (or LEDGER_MONITOR_TOKEN_FILE)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="the deployment's address, e.g. https://ledger.example.com/")
        parser.add_argument("--state", help="state file (default: var/monitor/<host>.json)")
        parser.add_argument("--key", help="verifier key file to pin, one key a line (default: trust on first use)")

    def handle(self, *args: Any, url: str, state: str | None = None, key: str | None = None, **options: Any) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise CommandError(f"monitor: {url!r} is not an http(s) URL")
        host = re.sub(r"[^A-Za-z0-9.-]+", "_", urlsplit(url).netloc)
        state_path = Path(state) if state else Path(settings.BASE_DIR) / "var" / "monitor" / f"{host}.json"
        try:
            pinned = parse_verifiers(Path(key).read_text()) if key else None
            report = run_monitor(url, state_path, api_token(), pinned)
        except (OSError, NoteError, ValueError, KeyError) as exc:
            raise CommandError(f"monitor: {url}: {exc}") from None
        for line in report.notes:
            self.stdout.write(line)
        if report.problems:
            raise CommandError("\n".join(report.problems))
        self.stdout.write(f"monitor OK: {report.checked} new checkpoint(s) checked; state {state_path}")
