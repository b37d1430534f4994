"""State only: the forge fields' choices come from evidence.sources.kinds (a callable), so a new
forge needs no migration. Choices are not in the database: nothing is altered there."""

from django.db import migrations, models

import evidence.sources.kinds


class Migration(migrations.Migration):
    dependencies = [
        ("readmodels", "0001_from_evidence"),
    ]

    operations = [
        migrations.AlterField(
            model_name=model,
            name="forge",
            field=models.CharField(choices=evidence.sources.kinds.forge_choices, max_length=10),
        )
        for model in ("approval", "protectionobservation", "protectionsnapshot", "pullrequest")
    ]
