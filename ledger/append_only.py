"""Database-enforced append-only: the SQL behind migration 0002, kept in one place.

PostgreSQL: triggers reject UPDATE, DELETE and TRUNCATE, with no setting that switches them off,
and the application role may only INSERT and SELECT. SQLite: RAISE(ABORT) triggers.
The head row may only move forward, and only to the log's own end: its size, chain hash and (on
PostgreSQL) root must be those of the stored entries and tree nodes, so the application role cannot
move it on its own; the sequencer inserts the entries, then moves the head in the same transaction.
A trigger rather than a SECURITY DEFINER function: a trigger binds every writer, the owner's
sessions included unless they drop it, and the sequencer keeps its one plain UPDATE under the head-row
lock on PostgreSQL and SQLite alike; a definer function would need the role's UPDATE revoked, a second
write path, and would only move the check into code the owner can replace just as easily.
An owner can still drop triggers: `verify_ledger` is what detects that kind of tampering.
"""

from __future__ import annotations

FROZEN_TABLES = ("ledger_entry", "ledger_treenode", "ledger_checkpoint")
HEAD_TABLE = "ledger_head"
QUEUE_TABLE = "ledger_queue"

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger: % on % is not allowed; the ledger is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION ledger_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.size < OLD.size
     OR (NEW.size = OLD.size AND NEW.root <> OLD.root) THEN
    RAISE EXCEPTION 'ledger: % on ledger_head may only move the head forward', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
-- The head must name the stored log's end: size = last seq + 1, that entry's chain hash, and the
-- root folded from the stored frontier (one hash per set bit of the size: leaves in ledger_entry,
-- complete subtrees in ledger_treenode), as ledger.merkle.Frontier does. Once per sequenced batch.
CREATE OR REPLACE FUNCTION ledger_head_follows_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_chain bytea;
  start bigint := 0;
  node bytea;
  nodes bytea[] := '{}';
  folded bytea;
BEGIN
  SELECT seq, chain_hash INTO last_seq, last_chain FROM ledger_entry ORDER BY seq DESC LIMIT 1;
  IF NEW.size <> COALESCE(last_seq + 1, 0)
     OR NEW.chain_hash <> COALESCE(last_chain, decode(repeat('00', 32), 'hex')) THEN
    RAISE EXCEPTION 'ledger: ledger_head may only move the head forward to the last entry (size %, chain hash)',
      COALESCE(last_seq + 1, 0) USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.size = 0 THEN
    folded := sha256(''::bytea);
  ELSE
    FOR lvl IN REVERSE 62..0 LOOP
      IF (NEW.size >> lvl) & 1 = 1 THEN
        IF lvl = 0 THEN
          SELECT leaf_hash INTO node FROM ledger_entry WHERE seq = start;
        ELSE
          SELECT t.hash INTO node FROM ledger_treenode t WHERE t.level = lvl AND t."index" = start >> lvl;
        END IF;
        IF node IS NULL THEN
          RAISE EXCEPTION 'ledger: tree node (level %, from seq %) missing under the head', lvl, start
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        nodes := nodes || node;
        start := start + (1::bigint << lvl);
        node := NULL;
      END IF;
    END LOOP;
    folded := nodes[array_length(nodes, 1)];
    FOR i IN REVERSE array_length(nodes, 1) - 1..1 LOOP
      folded := sha256('\\x01'::bytea || nodes[i] || folded);
    END LOOP;
  END IF;
  IF NEW.root <> folded THEN
    RAISE EXCEPTION 'ledger: ledger_head may only move the head forward to the root of the stored tree'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
"""


def postgresql_create() -> list[str]:
    sql = [_PG_FUNCTIONS]
    for table in FROZEN_TABLES:
        sql.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()"
        )
    for table in (*FROZEN_TABLES, HEAD_TABLE):
        sql.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()"
        )
    sql.append(
        f"CREATE TRIGGER {HEAD_TABLE}_forward_only BEFORE UPDATE OR DELETE ON {HEAD_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_head_forward_only()"
    )
    sql.append(HEAD_FOLLOWS_LOG_PG)
    return sql


HEAD_FOLLOWS_LOG_PG = (
    f"CREATE TRIGGER {HEAD_TABLE}_follows_log BEFORE INSERT OR UPDATE ON {HEAD_TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION ledger_head_follows_log()"
)


def postgresql_grants(role: str) -> list[str]:
    """Create the application role if we may, and give it INSERT/SELECT only on the ledger."""
    frozen = ", ".join(FROZEN_TABLES)
    return [
        f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(role)}) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN', {_literal(role)});
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'ledger: cannot create role %; create it and rerun the grants', {_literal(role)};
      RETURN;
    END;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), {_literal(role)});
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I',
                 current_schema(), {_literal(role)});
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', current_schema(), {_literal(role)});
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
                 current_schema(), {_literal(role)});
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I',
                 current_schema(), {_literal(role)});
  EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {frozen} FROM %I', {_literal(role)});
  EXECUTE format('REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON {HEAD_TABLE} FROM %I', {_literal(role)});
  EXECUTE format('REVOKE UPDATE, TRUNCATE, REFERENCES, TRIGGER ON {QUEUE_TABLE} FROM %I', {_literal(role)});
END $$;
"""
    ]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def postgresql_drop() -> list[str]:
    sql = [f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in FROZEN_TABLES]
    sql += [f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}" for t in (*FROZEN_TABLES, HEAD_TABLE)]
    sql.append(f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_forward_only ON {HEAD_TABLE}")
    sql.append(f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_follows_log ON {HEAD_TABLE}")
    return sql


def sqlite_create() -> list[str]:
    sql = []
    for table in FROZEN_TABLES:
        for op in ("UPDATE", "DELETE"):
            sql.append(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'ledger: {op} on {table} is not allowed; the ledger is append-only'); END"
            )
    sql.append(
        f"CREATE TRIGGER {HEAD_TABLE}_forward_only BEFORE UPDATE ON {HEAD_TABLE} "
        "WHEN NEW.id <> OLD.id OR NEW.size < OLD.size OR (NEW.size = OLD.size AND NEW.root <> OLD.root) BEGIN "
        f"SELECT RAISE(ABORT, 'ledger: UPDATE on {HEAD_TABLE} may only move the head forward'); END"
    )
    sql.append(
        f"CREATE TRIGGER {HEAD_TABLE}_no_delete BEFORE DELETE ON {HEAD_TABLE} BEGIN "
        f"SELECT RAISE(ABORT, 'ledger: DELETE on {HEAD_TABLE} is not allowed'); END"
    )
    sql += HEAD_FOLLOWS_LOG_SQLITE
    return sql


# SQLite has no SHA-256 in SQL: the size and chain hash are held to the log; the root is checked by
# the sequencer (it folds the stored frontier before it moves the head) and by verify_ledger.
_SQLITE_LOG_END = (
    "NEW.size <> COALESCE((SELECT MAX(seq) + 1 FROM ledger_entry), 0) OR NEW.chain_hash <> "
    "COALESCE((SELECT chain_hash FROM ledger_entry WHERE seq = NEW.size - 1), zeroblob(32))"
)
HEAD_FOLLOWS_LOG_SQLITE = [
    f"CREATE TRIGGER {HEAD_TABLE}_follows_log{suffix} BEFORE {op} ON {HEAD_TABLE} WHEN {_SQLITE_LOG_END} BEGIN "
    f"SELECT RAISE(ABORT, 'ledger: {op} on {HEAD_TABLE} may only move the head forward to the last entry'); END"
    for op, suffix in (("UPDATE", ""), ("INSERT", "_insert"))
]


_SQLITE_DROP_FOLLOWS_LOG = [f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_follows_log{s}" for s in ("", "_insert")]


def sqlite_drop() -> list[str]:
    sql = [f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in FROZEN_TABLES for op in ("update", "delete")]
    sql += [f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_forward_only", f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_no_delete"]
    sql += _SQLITE_DROP_FOLLOWS_LOG
    return sql


def head_follows_log_statements(vendor: str) -> list[str]:
    """Migration 0003 on a database made before it: (re)create just the head's log-end check."""
    if vendor == "postgresql":
        return [_PG_FUNCTIONS, f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_follows_log ON {HEAD_TABLE}", HEAD_FOLLOWS_LOG_PG]
    return [*_SQLITE_DROP_FOLLOWS_LOG, *HEAD_FOLLOWS_LOG_SQLITE]


def create_statements(vendor: str, role: str) -> list[str]:
    if vendor == "postgresql":
        return postgresql_create() + postgresql_grants(role)
    if vendor == "sqlite":
        return sqlite_create()
    raise NotImplementedError(f"no append-only triggers for the {vendor} backend")


def drop_statements(vendor: str) -> list[str]:
    return postgresql_drop() if vendor == "postgresql" else sqlite_drop()
