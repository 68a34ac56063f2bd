"""The analytics tables on ClickHouse: created idempotently, and checked against the catalog
before a report reads them.

:func:`check_table` runs once per table and source, before the first query: a missing table
says to run ``reporting-assets analytics init``; a column whose ClickHouse type does not read as
the catalog's type (say ``duration_ms`` as ``String``) is named with both types, so a mismatch
fails the export up front instead of mid-file. Any table the catalog names works, including a
``Distributed`` table over the shards of a cluster.
"""

from __future__ import annotations

import re
from typing import Any

from psycopg import sql

from reporting_assets.db.queries import query
from reporting_assets.exports.catalog import FieldType, TableSpec
from reporting_assets.exports.clickhouse_url import ClickHouseTarget
from reporting_assets.exports.errors import AnalyticsSchemaError

INIT_COMMAND = "reporting-assets analytics init"
_INTEGERS = ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64")
_WRAPPER = re.compile(r"^(?:Nullable|LowCardinality)\((.*)\)$")
_READS_AS: dict[FieldType, tuple[str, ...]] = {
    "text": ("String", "FixedString", "Enum8", "Enum16"),
    "integer": _INTEGERS,
    "number": ("Float32", "Float64", "Decimal", "Decimal32", "Decimal64", "Decimal128", *_INTEGERS),
    "timestamp": ("DateTime", "DateTime64"),
    "date": ("Date", "Date32"),
    "boolean": ("Bool", "UInt8"),
}
"""ClickHouse base types (without Nullable/LowCardinality and arguments) each catalog type reads."""


def table_statements(database: str) -> list[str]:
    """The idempotent CREATE statements for ``database``, one string each."""
    lines = [line for line in query("exports_clickhouse_tables").splitlines() if not line.startswith("--")]
    statements = [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
    return [sql.SQL(s).format(database=sql.Identifier(database)).as_string(None) for s in statements]


def init_tables(client: Any, database: str) -> None:
    """Create the database and the three tables where missing (existing ones are left alone)."""
    for statement in table_statements(database):
        client.command(statement)


def base_type(clickhouse_type: str) -> str:
    """``Nullable(LowCardinality(String))`` -> ``String``, ``DateTime64(6, 'UTC')`` -> ``DateTime64``."""
    text = clickhouse_type.strip()
    while match := _WRAPPER.match(text):
        text = match.group(1).strip()
    return text.split("(", 1)[0]


def check_table(client: Any, target: ClickHouseTarget, table: TableSpec) -> None:
    """Raise AnalyticsSchemaError when ``table`` is missing on ``target`` or a catalog field is
    missing or has a type that does not read as the catalog's."""
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = {database:String} AND table = {table:String}",
        parameters={"database": target.database, "table": table.name},
    ).result_rows
    where = f"{target.database}.{table.name} on {target.shown}"
    if not rows:
        raise AnalyticsSchemaError(
            f"The analytics table {where} does not exist: run `{INIT_COMMAND}` (add --sample for "
            f"sample data) to create the tables."
        )
    types = {str(name): str(type_) for name, type_ in rows}
    problems = []
    for field in table.fields:
        found = types.get(field.name)
        if found is None:
            problems.append(f"column {field.name} ({field.type}) is missing")
        elif base_type(found) not in _READS_AS[field.type]:
            allowed = ", ".join(_READS_AS[field.type])
            problems.append(
                f"column {field.name} is {found}, which does not read as {field.type} (use one of {allowed}, "
                f"optionally Nullable)"
            )
    if problems:
        raise AnalyticsSchemaError(
            f"The analytics table {where} does not match the report catalog: {'; '.join(problems)}. "
            f"Change the table to the catalog's types (`{INIT_COMMAND}` creates them so on a new database)."
        )
