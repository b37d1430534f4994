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
