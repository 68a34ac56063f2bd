"""Emptying the reporting schema between tests, whatever tables the migrations made."""

from __future__ import annotations

import dagster as dg
from psycopg import sql

from reporting_assets.db.connection import Connection, connect

MIGRATIONS_TABLE = "schema_migrations"
"""The migrations' own bookkeeping: emptying it would make the next start re-run every file."""


def reporting_tables(conn: Connection) -> list[str]:
    """Every table of the ``reporting`` schema as the catalog has it now, minus the migrations'
    bookkeeping; a new migration's tables are included without anyone listing them."""
    rows = conn.execute(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'reporting' "
        "AND tablename <> %s ORDER BY tablename",
        (MIGRATIONS_TABLE,),
    ).fetchall()
    return [row["tablename"] for row in rows]


def truncate_reporting(url: str) -> None:
    """Empty every reporting table (identities restarted), in one statement."""
    with connect(url) as conn:
        tables = reporting_tables(conn)
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier("reporting", t) for t in tables)
            )
        )


def wipe(instance: dg.DagsterInstance, url: str) -> None:
    """A clean instance (no runs, no customer partitions) and an empty reporting schema."""
    instance.wipe()
    for key in instance.get_dynamic_partitions("customers"):
        instance.delete_dynamic_partition("customers", key)
    truncate_reporting(url)
