"""Drop the `varchar_pattern_ops` indexes PostgreSQL's schema editor adds beside every unique
CharField: nothing looks idempotency keys up by prefix, and each one is an extra B-tree insert per
entry, twice (queue and log) on the append path. The unique indexes stay. SQLite has none."""

from django.db import migrations

TABLES = ("ledger_entry", "ledger_queue")


def _pattern_indexes(cursor) -> list[str]:
    cursor.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s) "
        "AND indexdef LIKE %s",
        [list(TABLES), "%(idempotency_key varchar_pattern_ops)%"],
    )
    return [row[0] for row in cursor.fetchall()]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in _pattern_indexes(cursor):
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{table}_idempotency_key_like" ON "{table}" (idempotency_key varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_queue_leaf_hash")]
    operations = [migrations.RunPython(forwards, backwards)]
