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
                    name="ProjectionCursor",
                    fields=[
                        ("id", models.SmallIntegerField(default=1, primary_key=True, serialize=False)),
                        ("last_seq", models.BigIntegerField(default=-1)),
                    ],
                    options={
                        "db_table": "evidence_projectioncursor",
                    },
                ),
                migrations.CreateModel(
                    name="ProjectionError",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("seq", models.BigIntegerField()),
                        ("kind", models.CharField(max_length=100)),
                        ("projector", models.CharField(max_length=200)),
                        ("error", models.TextField()),
                        ("seen_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "evidence_projectionerror",
                        "ordering": ["seq"],
                    },
                ),
                migrations.CreateModel(
                    name="SignatureVerdict",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("registry", models.CharField(max_length=255)),
                        ("repository", models.CharField(max_length=255)),
                        ("digest", models.CharField(db_index=True, max_length=71)),
                        (
                            "verdict",
                            models.CharField(
                                choices=[
                                    ("verified", "verified"),
                                    ("untrusted_signer", "untrusted_signer"),
                                    ("invalid_signature", "invalid_signature"),
                                    ("digest_mismatch", "digest_mismatch"),
                                    ("no_signature", "no_signature"),
                                    ("fetch_failed", "fetch_failed"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "signer",
                            models.CharField(
                                blank=True, help_text="Trusted key/identity, or the untrusted signer.", max_length=500
                            ),
                        ),
                        ("reason", models.TextField(blank=True)),
                        ("signature_kind", models.CharField(blank=True, max_length=40)),
                        (
                            "discovery",
                            models.CharField(
                                blank=True, help_text="signature-tag, referrers-api, tag-schema ...", max_length=40
                            ),
                        ),
                        ("manifest_digest", models.CharField(blank=True, max_length=71)),
                        ("observed_at", models.DateTimeField()),
                        ("entry_seq", models.BigIntegerField(unique=True)),
                    ],
                    options={
                        "db_table": "evidence_signatureverdict",
                        "ordering": ["digest", "entry_seq"],
                    },
                ),
                migrations.CreateModel(
                    name="Artifact",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("registry", models.CharField(max_length=255)),
                        ("repository", models.CharField(max_length=255)),
                        ("digest", models.CharField(db_index=True, max_length=71)),
                        ("media_type", models.CharField(blank=True, max_length=255)),
                        ("tags", models.JSONField(blank=True, default=list)),
                        (
                            "first_seq",
                            models.BigIntegerField(help_text="Seq of the first oci.artifact entry for this digest."),
                        ),
                        (
                            "entry_seq",
                            models.BigIntegerField(help_text="Seq of the latest oci.artifact entry for this digest."),
                        ),
                    ],
                    options={
                        "db_table": "evidence_artifact",
                        "ordering": ["registry", "repository", "digest"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("registry", "repository", "digest"), name="evidence_artifact_unique"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="DeployedApplication",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("environment", models.CharField(max_length=100)),
                        ("application", models.CharField(max_length=200)),
                        ("first_finished_at", models.DateTimeField()),
                    ],
                    options={
                        "db_table": "evidence_deployedapplication",
                        "constraints": [
                            models.UniqueConstraint(fields=("environment", "application"), name="deployed_app_unique")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Deployment",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "identity",
                            models.CharField(
                                help_text="Stable identity across harvest and webhook.", max_length=600, unique=True
                            ),
                        ),
                        ("controller", models.CharField(max_length=20)),
                        ("source", models.CharField(max_length=100)),
                        (
                            "subject",
                            models.CharField(help_text="Controller object, e.g. argocd:payments.", max_length=500),
                        ),
                        ("environment", models.CharField(max_length=100)),
                        ("application", models.CharField(max_length=200)),
                        (
                            "external_id",
                            models.CharField(
                                blank=True, help_text="History id, Helm release version, digest.", max_length=200
                            ),
                        ),
                        ("revision", models.CharField(blank=True, max_length=500)),
                        (
                            "image_refs",
                            models.JSONField(
                                blank=True, default=list, help_text="Images as the controller named them."
                            ),
                        ),
                        ("image_digests", models.JSONField(blank=True, default=list)),
                        ("started_at", models.DateTimeField()),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "running_since",
                            models.DateTimeField(
                                blank=True,
                                help_text="Start of the unbroken run of this revision and digest set.",
                                null=True,
                            ),
                        ),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("succeeded", "succeeded"),
                                    ("failed", "failed"),
                                    ("degraded", "degraded"),
                                    ("rolled_back", "rolled_back"),
                                    ("in_progress", "in_progress"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "phase",
                            models.CharField(blank=True, help_text="Controller's own status words.", max_length=100),
                        ),
                        ("health", models.CharField(blank=True, max_length=50)),
                        ("initiated_by", models.CharField(blank=True, max_length=200)),
                        ("automated", models.BooleanField(null=True)),
                        ("message", models.TextField(blank=True)),
                        ("entry_seqs", models.JSONField(default=list)),
                        ("first_seq", models.BigIntegerField()),
                    ],
                    options={
                        "db_table": "evidence_deployment",
                        "ordering": ["-started_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["environment", "application", "finished_at", "id"],
                                name="deploy_env_app_finished",
                            ),
                            models.Index(fields=["environment", "finished_at"], name="deploy_env_finished"),
                            models.Index(fields=["subject", "started_at"], name="deploy_subject_started"),
                            models.Index(fields=["revision"], name="deploy_revision"),
                            models.Index(fields=["started_at", "id"], name="deploy_started"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="DeploymentGap",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("controller", models.CharField(max_length=20)),
                        ("source", models.CharField(max_length=100)),
                        ("subject", models.CharField(max_length=500)),
                        ("environment", models.CharField(max_length=100)),
                        ("application", models.CharField(max_length=200)),
                        ("missing", models.JSONField(default=list, help_text="History ids (or revisions) never seen.")),
                        (
                            "after",
                            models.DateTimeField(
                                blank=True, help_text="Last deployment known before the gap.", null=True
                            ),
                        ),
                        (
                            "before",
                            models.DateTimeField(
                                blank=True, help_text="First deployment known after the gap.", null=True
                            ),
                        ),
                        ("entry_seq", models.BigIntegerField(unique=True)),
                    ],
                    options={
                        "db_table": "evidence_deploymentgap",
                        "ordering": ["-entry_seq"],
                        "indexes": [models.Index(fields=["environment", "application"], name="deploy_gap_env_app")],
                    },
                ),
                migrations.CreateModel(
                    name="ProtectionObservation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "forge",
                            models.CharField(choices=[("github", "GitHub"), ("gitlab", "GitLab")], max_length=10),
                        ),
                        ("repository", models.CharField(max_length=300)),
                        ("branch", models.CharField(max_length=255)),
                        ("observed_at", models.DateTimeField()),
                        ("content_hash", models.CharField(max_length=64)),
                        ("changed", models.BooleanField()),
                        ("source", models.CharField(max_length=200)),
                        ("entry_seq", models.BigIntegerField(help_text="The harvest-run entry")),
                    ],
                    options={
                        "db_table": "evidence_protectionobservation",
                        "ordering": ["observed_at", "entry_seq"],
                        "indexes": [
                            models.Index(
                                fields=["forge", "repository", "branch", "observed_at"], name="evidence_protobs_at"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ProtectionSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "forge",
                            models.CharField(choices=[("github", "GitHub"), ("gitlab", "GitLab")], max_length=10),
                        ),
                        ("repository", models.CharField(max_length=300)),
                        ("branch", models.CharField(max_length=255)),
                        ("observed_at", models.DateTimeField()),
                        (
                            "settings",
                            models.JSONField(
                                help_text="Effective settings; 'unknown' where the credential could not read"
                            ),
                        ),
                        ("detail", models.JSONField(default=dict, help_text="What the forge sent, per part")),
                        ("content_hash", models.CharField(max_length=64)),
                        ("previous_hash", models.CharField(blank=True, max_length=64)),
                        ("entry_seq", models.BigIntegerField()),
                    ],
                    options={
                        "db_table": "evidence_protectionsnapshot",
                        "ordering": ["observed_at", "entry_seq"],
                        "indexes": [
                            models.Index(
                                fields=["forge", "repository", "branch", "observed_at"], name="evidence_protsnap_at"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Provenance",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("registry", models.CharField(blank=True, max_length=255)),
                        ("repository", models.CharField(blank=True, max_length=255)),
                        ("digest", models.CharField(db_index=True, max_length=71)),
                        ("predicate_type", models.CharField(blank=True, max_length=255)),
                        ("builder_id", models.CharField(blank=True, max_length=500)),
                        ("build_type", models.CharField(blank=True, max_length=500)),
                        ("source_repo", models.CharField(blank=True, max_length=500)),
                        ("source_commit", models.CharField(blank=True, db_index=True, max_length=64)),
                        ("source_ref", models.CharField(blank=True, max_length=255)),
                        ("invocation_id", models.CharField(blank=True, max_length=500)),
                        (
                            "verdict",
                            models.CharField(
                                choices=[
                                    ("verified", "verified"),
                                    ("untrusted_signer", "untrusted_signer"),
                                    ("invalid_signature", "invalid_signature"),
                                    ("digest_mismatch", "digest_mismatch"),
                                    ("no_signature", "no_signature"),
                                    ("fetch_failed", "fetch_failed"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("signer", models.CharField(blank=True, max_length=500)),
                        ("reason", models.TextField(blank=True)),
                        ("observed_at", models.DateTimeField()),
                        ("entry_seq", models.BigIntegerField(unique=True)),
                    ],
                    options={
                        "verbose_name_plural": "provenance",
                        "db_table": "evidence_provenance",
                        "ordering": ["digest", "entry_seq"],
                        "indexes": [models.Index(fields=["digest", "verdict"], name="evidence_prov_digest_verdict")],
                    },
                ),
                migrations.CreateModel(
                    name="PullRequest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "forge",
                            models.CharField(choices=[("github", "GitHub"), ("gitlab", "GitLab")], max_length=10),
                        ),
                        ("repository", models.CharField(help_text="owner/repo or group/project", max_length=300)),
                        ("number", models.PositiveIntegerField(help_text="Pull request number or merge request iid")),
                        ("title", models.CharField(blank=True, max_length=500)),
                        ("url", models.CharField(blank=True, max_length=500)),
                        ("author", models.CharField(blank=True, max_length=200)),
                        ("base", models.CharField(help_text="Base (target) branch", max_length=255)),
                        ("head_sha", models.CharField(blank=True, help_text="Head commit at merge", max_length=64)),
                        ("merge_commit_sha", models.CharField(blank=True, max_length=64)),
                        ("squash_commit_sha", models.CharField(blank=True, max_length=64)),
                        ("merged_at", models.DateTimeField(null=True)),
                        ("merged_by", models.CharField(blank=True, max_length=200)),
                        (
                            "commits",
                            models.JSONField(default=list, help_text="Commit SHAs of the change, oldest first"),
                        ),
                        ("source", models.CharField(max_length=200)),
                        ("entry_seq", models.BigIntegerField(help_text="Ledger entry of this record")),
                    ],
                    options={
                        "db_table": "evidence_pullrequest",
                        "ordering": ["-merged_at", "-number"],
                        "indexes": [
                            models.Index(fields=["merge_commit_sha"], name="evidence_pr_merge_sha"),
                            models.Index(fields=["squash_commit_sha"], name="evidence_pr_squash_sha"),
                            models.Index(fields=["head_sha"], name="evidence_pr_head_sha"),
                            models.Index(fields=["repository", "base", "merged_at"], name="evidence_pr_repo_merged"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("forge", "repository", "number"), name="evidence_pr_unique")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="WorkloadSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("source", models.CharField(max_length=100)),
                        ("environment", models.CharField(max_length=100)),
                        ("application", models.CharField(max_length=200)),
                        ("namespace", models.CharField(max_length=200)),
                        ("observed_at", models.DateTimeField()),
                        (
                            "images",
                            models.JSONField(default=list, help_text="[{image, digest, pod, container}] as reported."),
                        ),
                        ("digests", models.JSONField(default=list)),
                        ("entry_seq", models.BigIntegerField()),
                    ],
                    options={
                        "db_table": "evidence_workloadsnapshot",
                        "ordering": ["-observed_at"],
                        "indexes": [
                            models.Index(
                                fields=["environment", "application", "observed_at"], name="workload_env_app_seen"
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("entry_seq", "environment", "application", "namespace"),
                                name="workload_snapshot_unique",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="DeploymentImage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("digest", models.CharField(db_index=True, max_length=100)),
                        (
                            "image",
                            models.CharField(
                                blank=True, help_text="Reference the digest was found under.", max_length=500
                            ),
                        ),
                        (
                            "origin",
                            models.CharField(
                                help_text="controller (named by it) or pods (seen running).", max_length=20
                            ),
                        ),
                        ("entry_seq", models.BigIntegerField()),
                        (
                            "deployment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="images",
                                to="readmodels.deployment",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "evidence_deploymentimage",
                        "constraints": [
                            models.UniqueConstraint(fields=("deployment", "digest"), name="deploy_image_unique")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Approval",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "forge",
                            models.CharField(choices=[("github", "GitHub"), ("gitlab", "GitLab")], max_length=10),
                        ),
                        ("repository", models.CharField(max_length=300)),
                        ("number", models.PositiveIntegerField()),
                        (
                            "review_id",
                            models.CharField(
                                help_text="GitHub review id, or approval:<username> on GitLab", max_length=100
                            ),
                        ),
                        ("reviewer", models.CharField(blank=True, max_length=200)),
                        (
                            "state",
                            models.CharField(
                                help_text="APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, REVOKED", max_length=30
                            ),
                        ),
                        (
                            "commit_id",
                            models.CharField(
                                blank=True, help_text="'unknown' when the forge does not say", max_length=64
                            ),
                        ),
                        ("submitted_at", models.DateTimeField(null=True)),
                        ("dismissed", models.BooleanField(default=False)),
                        ("dismissed_by", models.CharField(blank=True, max_length=200)),
                        ("dismissed_at", models.DateTimeField(null=True)),
                        (
                            "entry_seq",
                            models.BigIntegerField(help_text="Ledger entry of the review/approval as last recorded"),
                        ),
                        ("dismissal_seq", models.BigIntegerField(blank=True, null=True)),
                        (
                            "pull_request",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="approvals",
                                to="readmodels.pullrequest",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "evidence_approval",
                        "ordering": ["submitted_at", "id"],
                        "indexes": [
                            models.Index(fields=["forge", "repository", "number"], name="evidence_approval_change")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("forge", "repository", "number", "review_id"), name="evidence_approval_unique"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="PullRequestCommit",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("sha", models.CharField(max_length=64)),
                        ("position", models.PositiveIntegerField()),
                        ("entry_seq", models.BigIntegerField()),
                        (
                            "pull_request",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="commit_rows",
                                to="readmodels.pullrequest",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "evidence_pullrequestcommit",
                        "indexes": [models.Index(fields=["sha"], name="evidence_prcommit_sha")],
                        "constraints": [
                            models.UniqueConstraint(fields=("pull_request", "sha"), name="evidence_prcommit_unique")
                        ],
                    },
                ),
            ],
            database_operations=[],  # the tables exist; only their owner app changes
        ),
    ]
