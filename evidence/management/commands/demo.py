"""The main job on the embedded default. Grows into the whole harvest-to-audit-pack story."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from ledger.append import append_entries
from ledger.envelope import Record
from ledger.keys import key_path, public_key_path
from ledger.models import Entry


def sample_records() -> list[Record]:
    """A small, fixed story: a reviewed pull request, its merge, and a deployment of its image."""
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    digest = "sha256:" + "ab" * 32
    return [
        Record(
            "github.pull_request",
            "demo-github",
            "acme/payments#42",
            "demo:pr:42",
            {
                "number": 42,
                "author": "alice",
                "base": "main",
                "head_sha": "c0ffee" * 6 + "c0ff",
                "merged": True,
                "merged_by": "bob",
                "merge_commit_sha": "deadbeef" * 5,
            },
            observed_at=t0 + timedelta(hours=2),
            occurred_at=t0 + timedelta(hours=1),
        ),
        Record(
            "github.review",
            "demo-github",
            "acme/payments#42",
            "demo:review:9001",
            {"id": 9001, "user": "bob", "state": "APPROVED", "commit_id": "c0ffee" * 6 + "c0ff"},
            observed_at=t0 + timedelta(hours=2),
            occurred_at=t0 + timedelta(minutes=50),
        ),
        Record(
            "oci.signature",
            "demo-registry",
            f"registry.local/acme/payments@{digest}",
            f"demo:sig:{digest}",
            {"digest": digest, "verdict": "verified", "key": "release-key"},
            observed_at=t0 + timedelta(hours=3),
        ),
        Record(
            "argocd.deployment",
            "demo-argocd",
            "prod/payments",
            "demo:deploy:prod:payments:7",
            {"environment": "prod", "application": "payments", "revision": "deadbeef" * 5, "images": [digest]},
            observed_at=t0 + timedelta(hours=4),
            occurred_at=t0 + timedelta(hours=3, minutes=30),
        ),
    ]


class Command(BaseCommand):
    help = "Run the main job on the embedded default and say what it did."

    def handle(self, *args, **options):
        say = self.stdout.write
        call_command("create_signing_key", "--if-missing", stdout=self.stdout)
        before = Entry.objects.count()
        results = append_entries(sample_records())
        new = sum(r.created for r in results)
        total = Entry.objects.count()
        say(f"appended {new} new evidence entries ({len(results) - new} already there); ledger: {total} (was {before})")
        call_command("checkpoint", stdout=self.stdout)
        call_command("verify_ledger", stdout=self.stdout)
        db = settings.DATABASES["default"]["NAME"]
        say(f"database: {db}\nsigning key: {key_path()}  public key for auditors: {public_key_path()}")
        say("browse: .venv/bin/python manage.py createsuperuser, then .venv/bin/python manage.py runserver")
        say("        and open http://127.0.0.1:8000/admin/ or /api/v1/entries/")
