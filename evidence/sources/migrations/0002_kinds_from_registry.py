"""State only: Source.kind lists no choices; the kinds registry (evidence.sources.kinds) checks the
kind where a source is declared, so a new kind needs no migration. Nothing is altered in the database."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0001_from_evidence"),
    ]

    operations = [
        migrations.AlterField(
            model_name="source",
            name="kind",
            field=models.CharField(
                help_text="A kind of evidence.sources.kinds (github, gitlab, oci, ...).", max_length=20
            ),
        ),
    ]
