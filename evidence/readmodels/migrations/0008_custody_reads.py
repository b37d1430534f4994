"""Each forge target's latest harvest run, so custody stops grouping every run in the ledger; and
deployments by application and start, for custody's look at a deployment's predecessor; pull
requests by URL, for a deployment's page linking each step of its chain.

The backfill reads the harvest-run entries already in the ledger (what custody grouped until now);
the projector keeps the rows from then on, and `rebuild_projections` replays them.
"""

from django.db import migrations, models
from django.db.models import Max, Q


def backfill(apps, schema_editor):
    Entry = apps.get_model("ledger", "Entry")
    ForgeHarvest = apps.get_model("readmodels", "ForgeHarvest")
    runs = Entry.objects.filter(kind="harvest.run").filter(
        Q(subject__startswith="github:") | Q(subject__startswith="gitlab:")
    )
    latest = runs.values("subject").annotate(seq=Max("seq"), last=Max("observed_at")).order_by("subject")
    ForgeHarvest.objects.bulk_create(
        [ForgeHarvest(subject=r["subject"], last_seq=r["seq"], last_observed_at=r["last"]) for r in latest],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("readmodels", "0007_dora_opened_at"),
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ForgeHarvest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("subject", models.CharField(max_length=1024, unique=True)),
                ("last_seq", models.BigIntegerField(help_text="The latest harvest-run entry of this subject")),
                (
                    "last_observed_at",
                    models.DateTimeField(help_text="The latest observed time of its harvest runs"),
                ),
            ],
            options={
                "ordering": ["subject"],
                "indexes": [models.Index(fields=["last_observed_at"], name="forge_harvest_last_seen")],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="deployment",
            index=models.Index(
                fields=["environment", "application", "started_at", "id"], name="deploy_env_app_started"
            ),
        ),
        migrations.AddIndex(
            model_name="pullrequest",
            index=models.Index(fields=["url"], name="evidence_pr_url"),
        ),
    ]
