from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.checkpoint_files import checkpoint_dir, load_notes
from ledger.keys import SigningKeyError, load_verifiers
from ledger.monitor import api_token
from ledger.note import NoteError, parse_verifiers
from ledger.verification import HeldCheckpoint, verify_ledger


class Command(BaseCommand):
    help = (
        "Recompute every leaf, the chain, the tree and every denormalised column from stored bytes; check every "
        "checkpoint, and hold the database against the checkpoints kept outside it (LEDGER_CHECKPOINT_DIR and "
        "--checkpoints)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--key", help="verifier key file, one key a line (default: the published keys of LEDGER_SIGNING_KEY)"
        )
        parser.add_argument(
            "--checkpoints",
            action="append",
            default=[],
            metavar="FILE|DIR|URL",
            help="signed checkpoints held elsewhere (a directory of <size>.note, a file of notes, or an http(s) URL "
            "serving them); may be repeated",
        )
        parser.add_argument(
            "--tsa-cert",
            metavar="PEM",
            help="the TSA certificate RFC 3161 tokens must be signed by (default LEDGER_TSA_CERT; unset: each "
            "token's embedded one)",
        )

    def handle(
        self, *args: Any, key: str | None = None, checkpoints: list[str], tsa_cert: str | None = None, **options: Any
    ) -> None:
        try:
            verifiers = parse_verifiers(Path(key).read_text()) if key else load_verifiers()
        except (OSError, NoteError, SigningKeyError) as exc:
            raise CommandError(f"verify_ledger: no verifier key: {exc}") from None
        tsa_path = tsa_cert or settings.LEDGER_TSA_CERT
        try:
            tsa = Path(tsa_path).read_bytes() if tsa_path else None
        except OSError as exc:
            raise CommandError(f"verify_ledger: --tsa-cert {tsa_path}: {exc.strerror}") from None
        held: list[HeldCheckpoint] = []
        sources = [str(checkpoint_dir())] if checkpoint_dir().is_dir() else []
        for source in [*sources, *checkpoints]:
            try:
                held += [HeldCheckpoint(where, note) for where, note in load_notes(source, api_token())]
            except (OSError, NoteError, UnicodeDecodeError) as exc:
                raise CommandError(f"verify_ledger: --checkpoints {source}: {exc}") from None
        report = verify_ledger(verifiers, held, tsa)
        if not report.ok:
            raise CommandError("\n".join(report.lines()))
        self.stdout.write(report.line())
