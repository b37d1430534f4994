from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.keys import SigningKeyError, create_signing_key


class Command(BaseCommand):
    help = "Create the ledger's Ed25519 note signing key at LEDGER_SIGNING_KEY (and <file>.pub)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=None, help="key name (default: LEDGER_ORIGIN)")
        parser.add_argument("--force", action="store_true", help="replace an existing key")
        parser.add_argument("--if-missing", action="store_true", help="do nothing when a key exists")

    def handle(
        self, *args: Any, name: str | None = None, force: bool = False, if_missing: bool = False, **options: Any
    ) -> None:
        from ledger.keys import key_path

        if if_missing and key_path().exists():
            self.stdout.write(f"signing key exists: {key_path()}")
            return
        try:
            path, public, signer = create_signing_key(name or settings.LEDGER_ORIGIN, force=force)
        except (SigningKeyError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"signing key: {path}\npublic key:  {public}\n{signer.verifier().encode()}")
