from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exports.verifier import UsageError, verify


class Command(BaseCommand):
    help = "Verify a signed audit pack offline (the same code as the verifier embedded in every pack)."

    def add_arguments(self, parser):
        parser.add_argument("pdf", type=Path)
        parser.add_argument("--ledger-key", type=Path, required=True, help="the ledger's verifier key file")
        parser.add_argument("--trust", type=Path, action="append", default=[], help="a certificate to trust")
        parser.add_argument("--tsa-cert", type=Path, help="the TSA certificate the checkpoint's timestamp is signed by")

    def handle(self, *args, pdf: Path, ledger_key: Path, trust: list[Path], tsa_cert: Path | None = None, **options):
        try:
            data = pdf.read_bytes()
            key = ledger_key.read_text()
            roots = [p.read_bytes() for p in trust]
            tsa = tsa_cert.read_bytes() if tsa_cert else None
        except OSError as exc:
            raise CommandError(f"verify_pack: cannot read {exc.filename}: {exc.strerror}") from None
        try:
            report = verify(data, key, roots, tsa)
        except UsageError as exc:
            raise CommandError(f"verify_pack: {exc}") from None
        self.stdout.write(report.text())
        if not report.ok:
            raise CommandError(f"verify_pack: {pdf}: {report.failures[0]}")
