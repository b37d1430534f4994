import getpass
import json
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exports.jobs import request_pack, run_pack
from exports.pack.providers import PROVIDERS
from exports.pack.scope import SCOPE_TYPES, Scope, ScopeError


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class Command(BaseCommand):
    help = "Build a signed audit pack inline and write it to --out."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scope",
            default="entries",
            help=f"scope type ({', '.join(SCOPE_TYPES)}) with the options below, or a whole scope as JSON",
        )
        parser.add_argument("--deployment", help="deployment id (deployment scope)")
        parser.add_argument("--environment", help="environment name (environment scope)")
        parser.add_argument("--repository", help="owner/name (repository scope)")
        parser.add_argument("--seqs", help="comma-separated ledger seqs (entries scope)")
        parser.add_argument("--kinds", help="comma-separated entry kinds (entries scope)")
        parser.add_argument("--subject", help="exact entry subject (entries scope)")
        parser.add_argument("--since", help="period start, ISO 8601, inclusive")
        parser.add_argument("--until", help="period end, ISO 8601, exclusive")
        parser.add_argument("--sample", type=int, default=0, help="entries to sample in full")
        parser.add_argument("--seed", help="sampling seed (recorded in the pack; random when omitted)")
        parser.add_argument("--as", dest="requested_by", help="who the pack is made for (default: the OS user)")
        parser.add_argument("--out", required=True, type=Path, help="where to write the signed PDF")

    def handle(self, *args, **o):
        try:
            seqs = [int(s) for s in _csv(o["seqs"])]
        except ValueError:
            raise CommandError("audit_pack: --seqs: expected comma-separated whole numbers") from None
        if o["scope"].lstrip().startswith("{"):
            try:
                raw = json.loads(o["scope"])
            except ValueError as exc:
                raise CommandError(f"audit_pack: --scope: not valid JSON ({exc})") from None
            return self.make_pack(raw, o)
        raw = {
            "type": o["scope"],
            "deployment": o["deployment"],
            "environment": o["environment"],
            "repository": o["repository"],
            "seqs": seqs,
            "kinds": _csv(o["kinds"]),
            "subject": o["subject"],
            "since": o["since"],
            "until": o["until"],
            "sample": o["sample"],
            "seed": o["seed"],
        }
        return self.make_pack(raw, o)

    def make_pack(self, raw: dict, o: dict) -> None:
        try:
            scope = Scope.from_json(raw)
        except ScopeError as exc:
            raise CommandError(f"audit_pack: {exc}") from None
        if scope.type not in PROVIDERS:
            raise CommandError(f"audit_pack: no content provider for {scope.type!r} scopes is installed yet")
        name = o["requested_by"] or f"{getpass.getuser()} (manage.py audit_pack)"
        if len(name) > 150:
            raise CommandError("audit_pack: --as: at most 150 characters")
        pack = run_pack(request_pack(scope, None, name=name).pk)
        if pack is None or pack.status != pack.Status.DONE:
            raise CommandError(f"audit_pack: {pack.error if pack else 'the pack row vanished while building'}")
        try:
            o["out"].parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pack.file_path, o["out"])
        except OSError as exc:
            raise CommandError(f"audit_pack: --out {o['out']}: {exc.strerror}") from None
        self.stdout.write(
            f"{o['out']}: {pack.pages} pages, {pack.size} bytes, sha256 {pack.sha256}; "
            f"ledger entry {pack.entry_seq if pack.entry_seq is not None else '(queued)'}"
        )
