"""State only: the models of the old `evidence` app move here with their tables (db_table kept).
On a new database `evidence` 0001-0008 created the tables; on an old one they are already there."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("evidence", "0008_projection_errors"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Source",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.SlugField(max_length=100, unique=True)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("github", "github"),
                                    ("gitlab", "gitlab"),
                                    ("oci", "oci"),
                                    ("argocd", "argocd"),
                                    ("flux", "flux"),
                                    ("kubernetes", "kubernetes"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("url", models.URLField(blank=True, max_length=500)),
                        (
                            "credential_env",
                            models.CharField(
                                blank=True,
                                help_text="Name of the environment variable (or VAR_FILE) holding the credential.",
                                max_length=100,
                            ),
                        ),
                        (
                            "environment",
                            models.CharField(
                                blank=True, help_text="Environment everything it reports maps to.", max_length=100
                            ),
                        ),
                        (
                            "config",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="What to watch (repositories, projects, images, applications, namespaces), environment rules, trusted_keys, trusted_identities, webhook secret variable.",
                            ),
                        ),
                        (
                            "schedule",
                            models.PositiveIntegerField(default=3600, help_text="Seconds between scheduled harvests."),
                        ),
                        ("enabled", models.BooleanField(default=True)),
                        (
                            "from_file",
                            models.BooleanField(
                                default=False, editable=False, help_text="Declared in EVIDENCE_SOURCES_FILE."
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "db_table": "evidence_source",
                        "ordering": ["name"],
                        "permissions": [("harvest_source", "Can start a harvest of the source now")],
                    },
                ),
                migrations.CreateModel(
                    name="HarvestRun",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("target", models.CharField(max_length=500)),
                        ("started_at", models.DateTimeField()),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("running", "running"),
                                    ("succeeded", "succeeded"),
                                    ("failed", "failed"),
                                    ("partial", "partial"),
                                ],
                                default="running",
                                max_length=10,
                            ),
                        ),
                        ("requests", models.PositiveIntegerField(default=0)),
                        (
                            "records",
                            models.PositiveIntegerField(default=0, help_text="Records the harvester returned."),
                        ),
                        (
                            "appended",
                            models.PositiveIntegerField(default=0, help_text="New ledger entries (repeats excluded)."),
                        ),
                        ("errors", models.JSONField(blank=True, default=list)),
                        (
                            "entry_key",
                            models.CharField(
                                blank=True, help_text="Idempotency key of the harvest-run entry.", max_length=512
                            ),
                        ),
                        (
                            "source",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="runs", to="sources.source"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "evidence_harvestrun",
                        "ordering": ["-started_at"],
                        "indexes": [
                            models.Index(fields=["source", "target", "-started_at"], name="evidence_run_recent")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="HarvestCursor",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("target", models.CharField(max_length=500)),
                        ("state", models.JSONField(default=dict)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "source",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="cursors", to="sources.source"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "evidence_harvestcursor",
                        "constraints": [
                            models.UniqueConstraint(fields=("source", "target"), name="evidence_cursor_unique")
                        ],
                    },
                ),
            ],
            database_operations=[],  # the tables exist; only their owner app changes
        ),
    ]
