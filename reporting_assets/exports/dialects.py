"""How the report query compiler spells SQL for each analytics engine.

The compiler (``dsl``) decides what a query means and checks it once; a dialect only spells
the few constructs the engines write differently: placeholders, date buckets, distinct counts,
aggregate casts, ``in`` lists, relative ranges, NULL ordering, LIMIT. Both dialects produce
``psycopg.sql`` compositions; identifiers are the catalog's own names, double-quoted (valid in
both engines), and every value stays a placeholder:

* PostgreSQL: ``%s`` placeholders, values bound by psycopg;
* ClickHouse: ``{p<n>:<Type>}`` placeholders, values bound server-side by the engine (the
  value is parsed as that type; it is never part of the SQL text).

The two spell the same semantics: a day bucket is the date in the report's time zone, a week
bucket starts on Monday, a month bucket on the 1st (PostgreSQL ``date_trunc``); distinct
counts are exact; NULLs sort last ascending and first descending; an aggregate over no rows is
NULL (count 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from psycopg import sql

from reporting_assets.exports.catalog import TableSpec

ParamType = Literal["text", "integer", "number", "timestamp", "date", "boolean", "count"]
"""A field type, or ``count`` (a row count: LIMIT, OFFSET)."""


class Dialect(Protocol):
    """The engine-specific spellings the compiler asks for."""

    @property
    def name(self) -> str: ...

    def table(self, spec: TableSpec) -> sql.Composable: ...

    def placeholder(self, index: int, type_: ParamType, *, array: bool = False) -> sql.Composable: ...

    def bucket(self, column: sql.Composable, bucket: str, zone: sql.Composable) -> sql.Composable: ...

    def count_distinct(self, column: sql.Composable) -> sql.Composable: ...

    def average(self, column: sql.Composable) -> sql.Composable: ...

    def total(self, column: sql.Composable, type_: str) -> sql.Composable: ...

    def extreme(self, function: Literal["min", "max"], column: sql.Composable) -> sql.Composable: ...

    def any_of(self, column: sql.Composable, values: sql.Composable, type_: str) -> sql.Composable: ...

    def last(
        self,
        column: sql.Composable,
        unit: str,
        amount: sql.Composable,
        as_of: sql.Composable,
        as_of_again: sql.Composable,
    ) -> sql.Composable: ...

    def direction(self, direction: Literal["asc", "desc"]) -> sql.Composable: ...

    def float_sum(self, column: sql.Composable) -> sql.Composable: ...


_INTERVAL_UNIT = {
    "hours": sql.SQL("hours"),
    "days": sql.SQL("days"),
    "weeks": sql.SQL("weeks"),
    "months": sql.SQL("months"),
}


@dataclass(frozen=True)
class PostgresDialect:
    """PostgreSQL: psycopg placeholders, ``AT TIME ZONE`` + ``date_trunc`` buckets; tables in
    the catalog's schema."""

    name: ClassVar[str] = "postgresql"
    _array_cast: ClassVar[dict[str, sql.SQL]] = {
        "text": sql.SQL("text[]"),
        "integer": sql.SQL("bigint[]"),
        "number": sql.SQL("double precision[]"),
        "timestamp": sql.SQL("timestamptz[]"),
        "date": sql.SQL("date[]"),
        "boolean": sql.SQL("boolean[]"),
    }
    _trunc_unit: ClassVar[dict[str, sql.SQL]] = {"week": sql.SQL("'week'"), "month": sql.SQL("'month'")}
    _direction: ClassVar[dict[str, sql.SQL]] = {"asc": sql.SQL("ASC"), "desc": sql.SQL("DESC")}

    def table(self, spec: TableSpec) -> sql.Composable:
        return sql.Identifier(spec.schema, spec.name)

    def placeholder(self, index: int, type_: ParamType, *, array: bool = False) -> sql.Composable:
        return sql.Placeholder()

    def bucket(self, column: sql.Composable, bucket: str, zone: sql.Composable) -> sql.Composable:
        if bucket == "day":
            return sql.SQL("({} AT TIME ZONE {})::date").format(column, zone)
        return sql.SQL("date_trunc({}, {} AT TIME ZONE {})::date").format(
            self._trunc_unit[bucket], column, zone
        )

    def count_distinct(self, column: sql.Composable) -> sql.Composable:
        return sql.SQL("count(DISTINCT {})").format(column)

    def average(self, column: sql.Composable) -> sql.Composable:
        return sql.SQL("avg({})::double precision").format(column)

    def total(self, column: sql.Composable, type_: str) -> sql.Composable:
        cast = sql.SQL("bigint") if type_ == "integer" else sql.SQL("double precision")
        return sql.SQL("sum({})::{}").format(column, cast)

    def extreme(self, function: Literal["min", "max"], column: sql.Composable) -> sql.Composable:
        return sql.SQL("{}({})").format(sql.SQL(function.upper()), column)

    def any_of(self, column: sql.Composable, values: sql.Composable, type_: str) -> sql.Composable:
        return sql.SQL("{} = ANY({}::{})").format(column, values, self._array_cast[type_])

    def last(
        self,
        column: sql.Composable,
        unit: str,
        amount: sql.Composable,
        as_of: sql.Composable,
        as_of_again: sql.Composable,
    ) -> sql.Composable:
        interval = sql.SQL("make_interval({} => {})").format(_INTERVAL_UNIT[unit], amount)
        return sql.SQL("{col} >= {as_of}::timestamptz - {interval} AND {col} < {as_of2}::timestamptz").format(
            col=column, as_of=as_of, interval=interval, as_of2=as_of_again
        )

    def direction(self, direction: Literal["asc", "desc"]) -> sql.Composable:
        return self._direction[direction]

    def float_sum(self, column: sql.Composable) -> sql.Composable:
        return sql.SQL("sum({})::double precision").format(column)


CLICKHOUSE_TYPES: dict[str, str] = {
    "text": "String",
    "integer": "Int64",
    "number": "Float64",
    "timestamp": "DateTime64(6, 'UTC')",
    "date": "Date32",
    "boolean": "Bool",
    "count": "UInt64",
}
"""The ClickHouse type each kind of value is bound as."""


@dataclass(frozen=True)
class ClickHouseDialect:
    """ClickHouse: typed server-side parameters, ``Date32`` buckets in the report's zone,
    ``uniqExact``, ``-OrNull`` aggregates (NULL over no rows, as in PostgreSQL); tables in
    ``database`` (the server URL's database)."""

    database: str = "analytics"
    name: ClassVar[str] = "clickhouse"
    _day_of: ClassVar[dict[str, sql.SQL]] = {"week": sql.SQL("toDayOfWeek"), "month": sql.SQL("toDayOfMonth")}
    _subtract: ClassVar[dict[str, sql.SQL]] = {
        unit: sql.SQL(f"subtract{unit.capitalize()}") for unit in _INTERVAL_UNIT
    }
    _direction: ClassVar[dict[str, sql.SQL]] = {
        "asc": sql.SQL("ASC NULLS LAST"),
        "desc": sql.SQL("DESC NULLS FIRST"),
    }

    def table(self, spec: TableSpec) -> sql.Composable:
        return sql.Identifier(self.database, spec.name)

    def placeholder(self, index: int, type_: ParamType, *, array: bool = False) -> sql.Composable:
        name = CLICKHOUSE_TYPES[type_]
        return sql.SQL("{{p{}:{}}}".format(index, f"Array({name})" if array else name))

    def bucket(self, column: sql.Composable, bucket: str, zone: sql.Composable) -> sql.Composable:
        """The day as ``Date32`` (1900 to 2299, the range of the timestamps; ``Date`` starts in
        1970); a week or month bucket is that day less its day of the week or month, as
        ``toMonday``/``toStartOfMonth`` return ``Date`` (the 1970 floor again) unless a setting
        says otherwise."""
        day = sql.SQL("toDate32({}, {})").format(column, zone)
        if bucket == "day":
            return day
        return sql.SQL("subtractDays({day}, {day_of}({day}) - 1)").format(
            day=day, day_of=self._day_of[bucket]
        )

    def count_distinct(self, column: sql.Composable) -> sql.Composable:
        return sql.SQL("uniqExact({})").format(column)

    @staticmethod
    def _or_null(function: str, argument: sql.Composable) -> sql.Composable:
        """``function`` as its ``-OrNull`` aggregate: NULL over no rows, as in PostgreSQL."""
        return sql.SQL("{}OrNull({})").format(sql.SQL(function), argument)

    def average(self, column: sql.Composable) -> sql.Composable:
        return self._or_null("avg", column)

    def total(self, column: sql.Composable, type_: str) -> sql.Composable:
        cast = "toInt64" if type_ == "integer" else "toFloat64"
        return self._or_null("sum", sql.SQL("{}({})").format(sql.SQL(cast), column))

    def extreme(self, function: Literal["min", "max"], column: sql.Composable) -> sql.Composable:
        return self._or_null(function, column)

    def any_of(self, column: sql.Composable, values: sql.Composable, type_: str) -> sql.Composable:
        return sql.SQL("{} IN {}").format(column, values)

    def last(
        self,
        column: sql.Composable,
        unit: str,
        amount: sql.Composable,
        as_of: sql.Composable,
        as_of_again: sql.Composable,
    ) -> sql.Composable:
        return sql.SQL("{col} >= {subtract}({as_of}, {amount}) AND {col} < {as_of2}").format(
            col=column, subtract=self._subtract[unit], as_of=as_of, amount=amount, as_of2=as_of_again
        )

    def direction(self, direction: Literal["asc", "desc"]) -> sql.Composable:
        return self._direction[direction]

    def float_sum(self, column: sql.Composable) -> sql.Composable:
        return sql.SQL("toFloat64({})").format(self._or_null("sum", column))


POSTGRES = PostgresDialect()
