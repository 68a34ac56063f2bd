"""Emptying the reporting schema between tests, whatever tables the migrations made."""

from __future__ import annotations

from typing import Any

import dagster as dg
from psycopg import sql

from reporting_assets.db.connection import Connection, connect
from reporting_assets.pipelines.known import forget_known_names

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


SEEDED_TABLES = ("pipelines",)
"""Tables the migrations fill (the pipeline registry's sample pipelines): emptied and refilled
with what the migrations wrote, so every test starts from a freshly migrated database."""
_seeded: dict[str, dict[str, list[dict[str, Any]]]] = {}


def truncate_reporting(url: str) -> None:
    """Empty every reporting table (identities restarted), in one statement, and put back the
    rows the migrations wrote (as found the first time, right after the session migrated)."""
    with connect(url) as conn:
        tables = reporting_tables(conn)
        if url not in _seeded:
            _seeded[url] = {
                t: conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier("reporting", t))).fetchall()
                for t in SEEDED_TABLES
                if t in tables
            }
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier("reporting", t) for t in tables)
            )
        )
        for table, rows in _seeded[url].items():
            for row in rows:
                conn.execute(
                    sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                        sql.Identifier("reporting", table),
                        sql.SQL(", ").join(map(sql.Identifier, row)),
                        sql.SQL(", ").join(sql.Placeholder() * len(row)),
                    ),
                    list(row.values()),
                )


def wipe(instance: dg.DagsterInstance, url: str) -> None:
    """A clean instance (no runs, no customer partitions) and an empty reporting schema, which
    this process's cached registry and customers are made to forget."""
    instance.wipe()
    for key in instance.get_dynamic_partitions("customers"):
        instance.delete_dynamic_partition("customers", key)
    truncate_reporting(url)
    forget_known_names()
