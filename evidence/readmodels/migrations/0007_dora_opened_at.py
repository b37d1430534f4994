"""Pull requests keep when they were opened (DORA change lead time starts there).

The value is in every change's own entry (`created_at` as the forge sent it), so the backfill
reads it from there, as `rebuild_projections` would.
"""

from datetime import UTC, datetime

from django.db import migrations, models


def _opened(created_at):
    if not isinstance(created_at, str) or not created_at:
        return None
    try:
        moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def backfill(apps, schema_editor):
    from ledger.envelope import open_envelope

    PullRequest = apps.get_model("readmodels", "PullRequest")
    Entry = apps.get_model("ledger", "Entry")
    rows = list(PullRequest.objects.filter(opened_at__isnull=True).only("id", "entry_seq"))
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        payloads = dict(Entry.objects.filter(seq__in=[r.entry_seq for r in chunk]).values_list("seq", "payload"))
        for row in chunk:
            payload = payloads.get(row.entry_seq)
            if payload is None:
                continue
            row.opened_at = _opened((open_envelope(bytes(payload)).get("data") or {}).get("created_at"))
        PullRequest.objects.bulk_update([r for r in chunk if r.opened_at], ["opened_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("readmodels", "0006_ancestry_branch_commits"),
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="pullrequest",
            name="opened_at",
            field=models.DateTimeField(blank=True, help_text="When it was opened (created_at)", null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
