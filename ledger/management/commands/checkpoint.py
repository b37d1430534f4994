from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger.checkpoints import CheckpointRefused, sign_checkpoint
from ledger.keys import SigningKeyError
from ledger.sequencer import sequence_pending


class Command(BaseCommand):
    help = "Sequence what is queued and sign a checkpoint of the tree head."

    def handle(self, *args: Any, **options: Any) -> None:
        sequence_pending()
        try:
            checkpoint = sign_checkpoint()
        except (SigningKeyError, CheckpointRefused) as exc:
            raise CommandError(str(exc)) from None
        if checkpoint is None:
            self.stdout.write("ledger is empty: nothing to sign")
            return
        self.stdout.write(checkpoint.note)
