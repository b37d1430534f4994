"""API tokens move to django-rest-knox (hashed, expiring): drop DRF's plain-text token table if an
older install has it, forget its permissions, and take every access permission from the groups."""

from django.db import migrations


def forget_drf_tokens(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.using(schema_editor.connection.alias).filter(app_label="authtoken").delete()


def revoke_access(apps, schema_editor):
    from evidence.core.access import revoke_access_permissions

    revoke_access_permissions(apps, schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("evidence", "0009_hand_over_to_apps"),
    ]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
        migrations.RunPython(forget_drf_tokens, migrations.RunPython.noop),
        migrations.RunPython(revoke_access, migrations.RunPython.noop),
    ]
