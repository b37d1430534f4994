"""What the database owner can do with the triggers switched off: edit, delete, roll back."""

from django.db import connection

from ledger import merkle
from ledger.store import fetch_nodes

from ..conftest import triggers_suspended


def owner_executes(sql, params=()):
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def roll_back_to(size):
    """Cut the log back to `size` entries as if restored from an old backup: entries, the tree
    nodes over them, checkpoints beyond, and a head row that agrees, so the database verifies alone."""
    index = connection.ops.quote_name("index")
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(f"SELECT level, {index} FROM ledger_treenode")
        doomed = [(level, i) for level, i in cursor.fetchall() if (i + 1) << level > size]
        for level, i in doomed:
            cursor.execute(f"DELETE FROM ledger_treenode WHERE level = %s AND {index} = %s", [level, i])
        cursor.execute("DELETE FROM ledger_entry WHERE seq >= %s", [size])
        cursor.execute("DELETE FROM ledger_checkpoint WHERE size > %s", [size])
        cursor.execute("SELECT chain_hash FROM ledger_entry WHERE seq = %s", [size - 1])
        chain = bytes(cursor.fetchone()[0])
        root = merkle.subtree_root(size, fetch_nodes)
        cursor.execute("UPDATE ledger_head SET size = %s, root = %s, chain_hash = %s", [size, root, chain])
