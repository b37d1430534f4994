"""Groups `auditors` and `engineers` with their permissions (see evidence.core.access), and the
"harvest now" permission on sources. Models added later are granted by the post_migrate handler."""

from django.db import migrations


def create_groups(apps, schema_editor):
    from evidence.core.access import grant_all

    grant_all(apps, schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("ledger", "0002_append_only"),
        ("exports", "0001_initial"),
        ("evidence", "0005_custody"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="source",
            options={
                "ordering": ["name"],
                "permissions": [("harvest_source", "Can start a harvest of the source now")],
            },
        ),
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
