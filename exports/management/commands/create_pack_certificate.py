from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exports.signing import KEY_TYPES, create_demo_certificate


class Command(BaseCommand):
    help = (
        "Create a self-signed demo certificate for signing audit packs at PACK_SIGNING_CERT/PACK_SIGNING_KEY "
        "(encrypted with PACK_SIGNING_KEY_PASSWORD when set). Production uses the operator's real certificate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", default="Evidence ledger demo operator", help="certificate common name")
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--force", action="store_true", help="replace existing files")
        parser.add_argument("--if-missing", action="store_true", help="do nothing when the files exist (for the demo)")
        parser.add_argument(
            "--key-type",
            choices=KEY_TYPES,
            default=KEY_TYPES[0],
            help="rsa (RSA 3072, the default) keeps signed packs PDF 1.7 and so PDF/A-3b; ecdsa (P-256) makes "
            "pyHanko raise them to PDF 2.0 (ISO 32002), which is not PDF/A-3b",
        )

    def handle(self, *args, name: str, days: int, force: bool, if_missing: bool, key_type: str, **options):
        cert = Path(settings.PACK_SIGNING_CERT)
        key = Path(settings.PACK_SIGNING_KEY) if settings.PACK_SIGNING_KEY else None  # no key path: PKCS#12
        existing = [p for p in (cert, key) if p is not None and p.exists()]
        if existing and if_missing and not force:
            self.stdout.write(f"pack certificate: {existing[0]} exists, kept")
            return
        if existing and not force:
            raise CommandError(f"create_pack_certificate: {existing[0]} exists; pass --force to replace it")
        if days < 1:
            raise CommandError("create_pack_certificate: --days must be at least 1")
        fingerprint = create_demo_certificate(cert, key, name, settings.PACK_SIGNING_KEY_PASSWORD, days, key_type)
        where = f"{cert} (PKCS#12)" if key is None else f"{cert} and {key}"
        self.stdout.write(
            f"self-signed pack certificate ({key_type}) written to {where}\nSHA-256 fingerprint: {fingerprint}"
        )
        if key_type != "rsa":
            self.stdout.write("note: packs signed with an ECDSA key are PDF 2.0, so not PDF/A-3b")
