"""State only: the models of the old `evidence` app move here with their tables (db_table kept).
On a new database `evidence` 0001-0008 created the tables; on an old one they are already there."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("evidence", "0008_projection_errors"),
        ("readmodels", "0001_from_evidence"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RiskAcceptance",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("finding_key", models.CharField(db_index=True, max_length=64)),
                        ("code", models.CharField(max_length=60)),
                        ("accepted_by", models.CharField(max_length=150)),
                        ("reason", models.TextField()),
                        ("until", models.DateTimeField()),
                        ("accepted_at", models.DateTimeField()),
                        ("entry_seq", models.BigIntegerField(unique=True)),
                    ],
                    options={
                        "db_table": "evidence_riskacceptance",
                        "ordering": ["-accepted_at", "-entry_seq"],
                    },
                ),
                migrations.CreateModel(
                    name="Policy",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("environment", models.CharField(max_length=100)),
                        ("version", models.PositiveIntegerField()),
                        (
                            "min_approvals",
                            models.PositiveIntegerField(
                                help_text="Approvals on the merged head by people other than the author"
                            ),
                        ),
                        ("require_signature", models.BooleanField(help_text="Images must carry a verified signature")),
                        (
                            "trusted_signers",
                            models.JSONField(
                                blank=True, default=list, help_text="Signers trusted here; empty: any verified"
                            ),
                        ),
                        ("require_provenance", models.BooleanField()),
                        (
                            "trusted_builders",
                            models.JSONField(
                                blank=True, default=list, help_text="Builder ids trusted; empty: any verified"
                            ),
                        ),
                        (
                            "protection",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="Branch protection required: {setting: value}, e.g. dismiss_stale_reviews",
                            ),
                        ),
                        (
                            "effective_at",
                            models.DateTimeField(help_text="In force from this time until the next version"),
                        ),
                        ("recorded_by", models.CharField(max_length=150)),
                        ("content_hash", models.CharField(max_length=64)),
                        ("entry_seq", models.BigIntegerField(unique=True)),
                    ],
                    options={
                        "verbose_name_plural": "policies",
                        "db_table": "evidence_policy",
                        "ordering": ["environment", "-effective_at", "-entry_seq"],
                        "indexes": [models.Index(fields=["environment", "effective_at"], name="policy_env_effective")],
                    },
                ),
                migrations.CreateModel(
                    name="Finding",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "key",
                            models.CharField(
                                help_text="Stable: hash of deployment identity, code, subject",
                                max_length=64,
                                unique=True,
                            ),
                        ),
                        ("environment", models.CharField(max_length=100)),
                        ("application", models.CharField(max_length=200)),
                        ("deployed_at", models.DateTimeField()),
                        ("code", models.CharField(max_length=60)),
                        (
                            "severity",
                            models.CharField(
                                choices=[("high", "high"), ("medium", "medium"), ("low", "low")], max_length=10
                            ),
                        ),
                        (
                            "subject",
                            models.CharField(
                                blank=True, help_text="What it is about: a digest, a PR, a branch", max_length=500
                            ),
                        ),
                        ("repository", models.CharField(blank=True, max_length=300)),
                        ("explanation", models.TextField()),
                        ("controls", models.JSONField(default=list)),
                        ("entry_seqs", models.JSONField(default=list)),
                        (
                            "policy_seq",
                            models.BigIntegerField(
                                blank=True, help_text="Policy version judged by (none: baseline)", null=True
                            ),
                        ),
                        ("accepted_until", models.DateTimeField(blank=True, null=True)),
                        ("accepted_by", models.CharField(blank=True, max_length=150)),
                        ("acceptance_reason", models.TextField(blank=True)),
                        ("acceptance_seq", models.BigIntegerField(blank=True, null=True)),
                        (
                            "deployment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="findings",
                                to="readmodels.deployment",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "evidence_finding",
                        "ordering": ["-deployed_at", "deployment_id", "code", "subject"],
                        "indexes": [
                            models.Index(fields=["environment", "deployed_at"], name="finding_env_at"),
                            models.Index(fields=["code", "deployed_at"], name="finding_code_at"),
                            models.Index(fields=["repository", "deployed_at"], name="finding_repo_at"),
                        ],
                    },
                ),
            ],
            database_operations=[],  # the tables exist; only their owner app changes
        ),
    ]
