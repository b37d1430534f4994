"""manage.py gate --environment prod (--digest sha256:... | --revision SHA) [--json]: allow or
deny a release now under the environment's policy in force; exit 0 on allow, 1 on deny (every
reason printed), 2 on a bad question. The decision is recorded in the ledger (`gate.decision`)."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evidence.compliance.gate import ALLOW, GateError, decide_release


class Command(BaseCommand):
    help = "Ask the release gate: may this digest or revision go to the environment now? Exit 0 allow, 1 deny."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--environment", required=True)
        parser.add_argument("--digest", default="", help="Image digest, sha256:<64 hex>")
        parser.add_argument("--revision", default="", help="Git commit SHA")
        parser.add_argument("--asked-by", default="", help="Who asks (default: cli:<user>)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            decision = decide_release(
                options["environment"].strip(),
                digest=options["digest"].strip(),
                revision=options["revision"].strip(),
                asked_by=options["asked_by"] or f"cli:{getpass.getuser()}",
            )
        except GateError as exc:
            raise CommandError(f"gate: {exc}", returncode=2) from None
        if options["json"]:
            self.stdout.write(json.dumps(decision.as_json(), indent=2, sort_keys=True))
        else:
            asked = decision.digest or decision.revision
            self.stdout.write(
                f"{decision.answer.upper()}: {asked} to {decision.environment} "
                f"(policy {decision.policy.get('version') or 'baseline'}; decision entry {decision.seq})"
            )
            for reason in decision.reasons:
                seqs = ",".join(map(str, reason["entry_seqs"])) or "-"
                status = reason["status"].replace("_", " ")
                self.stdout.write(f"  {reason['rule']}: {status}: {reason['explanation']} [entries {seqs}]")
        if decision.answer != ALLOW:
            sys.exit(1)
