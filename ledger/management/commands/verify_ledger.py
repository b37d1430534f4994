from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.keys import SigningKeyError, load_verifier
from ledger.note import NoteError, Verifier
from ledger.verification import verify_ledger


class Command(BaseCommand):
    help = "Recompute every leaf, the chain and the tree from stored bytes; check every checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key", help="verifier key file (default: the public half of LEDGER_SIGNING_KEY)")

    def handle(self, *args: Any, key: str | None = None, **options: Any) -> None:
        try:
            verifier = Verifier.parse(Path(key).read_text()) if key else load_verifier()
        except (OSError, NoteError, SigningKeyError) as exc:
            raise CommandError(f"verify_ledger: no verifier key: {exc}") from None
        report = verify_ledger(verifier)
        if not report.ok:
            raise CommandError(report.line())
        self.stdout.write(report.line())
