"""The benchmarks' own PostgreSQL database: dropped and created anew, never the application's."""

from __future__ import annotations


def recreate_database(url: str) -> bool:
    """Drop and create the database named by url; False (with a line saying why) when unreachable."""
    import psycopg

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL not reachable ({exc}); skipped")
        return False
    return True


# --keep: a finished fill writes its sizes into a one-row table of its own, so a later run with the
# same sizes reuses the database instead of filling it again (a fill of a million rows takes minutes).


def filled_before(url: str, table: str, **sizes: int) -> bool:
    """Whether the database at url holds a finished fill of exactly these sizes (read without Django)."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(f"SELECT {', '.join(sizes)} FROM {table}").fetchone()
    except psycopg.Error:
        return False
    return row == tuple(sizes.values())


def mark_filled(table: str, **sizes: int) -> None:
    """Record, through Django's connection, that a fill of these sizes finished."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} ({', '.join(f'{name} integer' for name in sizes)})")
        cursor.execute(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(sizes))})", list(sizes.values()))
