"""Hold the head row to the stored log's end (see ledger/append_only.py): the application role
can no longer move ledger_head.size, chain_hash or root on its own."""

from django.db import migrations

from ledger.append_only import drop_statements, head_follows_log_statements


def forwards(apps, schema_editor):
    for statement in head_follows_log_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, None)  # None: no placeholder parsing of the % in plpgsql


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in drop_statements(vendor):
        if "follows_log" in statement:
            schema_editor.execute(statement, None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
