"""State only: hand every model to the sources, readmodels and compliance apps, which keep the tables."""

from django.db import migrations


def forget_old_content_types(apps, schema_editor):
    """Permissions on `evidence.*` name models that now live in the new apps (which get their own
    on post_migrate); drop them so no group holds a grant on a model that no longer exists."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.using(schema_editor.connection.alias).filter(app_label="evidence").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0001_from_evidence"),
        ("readmodels", "0001_from_evidence"),
        ("compliance", "0001_from_evidence"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("evidence", "0008_projection_errors"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="approval",
                    name="pull_request",
                ),
                migrations.DeleteModel(
                    name="Artifact",
                ),
                migrations.DeleteModel(
                    name="DeployedApplication",
                ),
                migrations.RemoveField(
                    model_name="finding",
                    name="deployment",
                ),
                migrations.RemoveField(
                    model_name="deploymentimage",
                    name="deployment",
                ),
                migrations.DeleteModel(
                    name="DeploymentGap",
                ),
                migrations.RemoveField(
                    model_name="harvestcursor",
                    name="source",
                ),
                migrations.RemoveField(
                    model_name="harvestrun",
                    name="source",
                ),
                migrations.DeleteModel(
                    name="Policy",
                ),
                migrations.DeleteModel(
                    name="ProjectionCursor",
                ),
                migrations.DeleteModel(
                    name="ProjectionError",
                ),
                migrations.DeleteModel(
                    name="ProtectionObservation",
                ),
                migrations.DeleteModel(
                    name="ProtectionSnapshot",
                ),
                migrations.DeleteModel(
                    name="Provenance",
                ),
                migrations.RemoveField(
                    model_name="pullrequestcommit",
                    name="pull_request",
                ),
                migrations.DeleteModel(
                    name="RiskAcceptance",
                ),
                migrations.DeleteModel(
                    name="SignatureVerdict",
                ),
                migrations.DeleteModel(
                    name="WorkloadSnapshot",
                ),
                migrations.DeleteModel(
                    name="Approval",
                ),
                migrations.DeleteModel(
                    name="Finding",
                ),
                migrations.DeleteModel(
                    name="Deployment",
                ),
                migrations.DeleteModel(
                    name="DeploymentImage",
                ),
                migrations.DeleteModel(
                    name="HarvestCursor",
                ),
                migrations.DeleteModel(
                    name="HarvestRun",
                ),
                migrations.DeleteModel(
                    name="Source",
                ),
                migrations.DeleteModel(
                    name="PullRequest",
                ),
                migrations.DeleteModel(
                    name="PullRequestCommit",
                ),
            ],
            database_operations=[],  # the tables exist; only their owner app changes
        ),
        migrations.RunPython(forget_old_content_types, migrations.RunPython.noop),
    ]
