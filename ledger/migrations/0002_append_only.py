"""Make the ledger append-only in the database itself (see ledger/append_only.py)."""

from django.conf import settings
from django.db import migrations

from ledger.append_only import create_statements, drop_statements


def forwards(apps, schema_editor):
    for statement in create_statements(schema_editor.connection.vendor, settings.LEDGER_APP_ROLE):
        schema_editor.execute(statement, None)  # None: no placeholder parsing of the % in plpgsql


def backwards(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, None)  # None: no placeholder parsing of the % in plpgsql


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
