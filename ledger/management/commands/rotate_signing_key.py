from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.checkpoints import CheckpointRefused, sign_checkpoint
from ledger.keys import SigningKeyError, rotate_signing_key
from ledger.sequencer import sequence_pending


class Command(BaseCommand):
    help = (
        "Make a new checkpoint signing key and publish it beside the current one. The next checkpoint is signed "
        "by both (signed now if entries wait unsigned); from then on only the new key signs, and the old "
        "verifier key stays published."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=None, help="the new key's name (default: the current key's)")

    def handle(self, *args: Any, name: str | None = None, **options: Any) -> None:
        try:
            signer = rotate_signing_key(name)
        except (SigningKeyError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"new key published: {signer.verifier().encode()}")
        sequence_pending()
        try:
            checkpoint = sign_checkpoint()
        except CheckpointRefused as exc:
            raise CommandError(f"the switch checkpoint was refused: {exc}") from None
        if checkpoint is not None and signer.key_id.hex() == checkpoint.key_id:
            self.stdout.write(f"switched: checkpoint {checkpoint.size} is signed by both keys")
        else:
            self.stdout.write("the next checkpoint will be signed by both keys, then by the new key only")
