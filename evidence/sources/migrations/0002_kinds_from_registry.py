"""State only: Source.kind's choices come from evidence.sources.kinds (a callable), so a new kind
of source needs no migration. Choices are not in the database: nothing is altered there."""

from django.db import migrations, models

import evidence.sources.kinds


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0001_from_evidence"),
    ]

    operations = [
        migrations.AlterField(
            model_name="source",
            name="kind",
            field=models.CharField(choices=evidence.sources.kinds.kind_choices, max_length=20),
        ),
    ]
