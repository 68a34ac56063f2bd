"""The report query DSL: JSON validated with pydantic, compiled to parameterized SQL for
PostgreSQL or ClickHouse (``dialects`` spells what differs; the checks here are shared).

A query names a whitelisted table (``catalog.TABLES``), the fields to select (plain fields,
date buckets of a timestamp, aggregates), filters with whitelisted operators, grouping, order
and a limit. Compilation is where safety lives:

* only the catalog's own table/field names become identifiers (``psycopg.sql.Identifier``),
  operators/functions/directions come from fixed maps, every value is a bound parameter;
* ``tenant_id = <acting tenant>`` is always added at the top level and ANDed with the user's
  filters (which cannot OR), so it cannot be removed or widened; a filter that names another
  tenant is rejected rather than silently matching nothing;
* the row count is capped by the report's ``row_limit``, itself capped by a configurable
  maximum.

Every problem is reported with its path in the query (``filters[2].op``), all at once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg import sql
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from reporting_assets.exports.catalog import NUMERIC_TYPES, TABLES, TENANT_FIELD, FieldType, TableSpec
from reporting_assets.exports.dialects import POSTGRES, Dialect, ParamType
from reporting_assets.exports.errors import QueryValidationError
from reporting_assets.exports.limits import DEFAULT_MAX_ROW_LIMIT, DEFAULT_ROW_LIMIT

Operator = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "like", "last"]
Bucket = Literal["day", "week", "month"]
AggregateFunction = Literal["count", "count_distinct", "sum", "avg", "min", "max"]
Direction = Literal["asc", "desc"]

MAX_IN_VALUES = 1000
MAX_TEXT_VALUE = 1000
MAX_RELATIVE_AMOUNT = 1000
_OUTPUT_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_INT8 = (-(2**63), 2**63 - 1)

_COMPARISON = {
    "eq": sql.SQL("="),
    "ne": sql.SQL("<>"),
    "lt": sql.SQL("<"),
    "lte": sql.SQL("<="),
    "gt": sql.SQL(">"),
    "gte": sql.SQL(">="),
}
_RELATIVE_UNITS = ("hours", "days", "weeks", "months")


# --- the JSON shape (pydantic) ----------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldItem(_Model):
    """A table field, optionally bucketed by day/week/month (timestamps), optionally renamed."""

    field: str = Field(min_length=1, max_length=200)
    bucket: Bucket | None = None
    alias: str | None = Field(default=None, alias="as", min_length=1, max_length=200)


class AggregateItem(_Model):
    """``count`` (of rows, or of non-empty values of ``field``), ``count_distinct``, ``sum``,
    ``avg``, ``min`` or ``max`` of a field."""

    aggregate: AggregateFunction
    field: str = Field(default="*", min_length=1, max_length=200)
    alias: str | None = Field(default=None, alias="as", min_length=1, max_length=200)


class GroupItem(_Model):
    field: str = Field(min_length=1, max_length=200)
    bucket: Bucket | None = None


class Filter(_Model):
    """``{"field": ..., "op": ..., "value": ...}``; ``last`` takes ``{"amount": 7, "unit": "days"}``."""

    field: str = Field(min_length=1, max_length=200)
    op: Operator
    value: JsonValue = None


class OrderItem(_Model):
    field: str = Field(min_length=1, max_length=200)
    direction: Direction = "asc"


def _select_tag(value: Any) -> str:
    if isinstance(value, str):
        return "name"
    if isinstance(value, AggregateItem) or (isinstance(value, Mapping) and "aggregate" in value):
        return "aggregate-item"  # (a dict when validating, a model when serializing)
    return "field-item"


def _group_tag(value: Any) -> str:
    return "name" if isinstance(value, str) else "group-item"


SelectItem = Annotated[
    Annotated[str, Tag("name")]
    | Annotated[FieldItem, Tag("field-item")]
    | Annotated[AggregateItem, Tag("aggregate-item")],
    Discriminator(_select_tag),
]
GroupByItem = Annotated[
    Annotated[str, Tag("name")] | Annotated[GroupItem, Tag("group-item")], Discriminator(_group_tag)
]
_TAGS = {"name", "field-item", "aggregate-item", "group-item"}


def _all_fields() -> list[SelectItem]:
    return ["*"]


class QuerySpec(_Model):
    """A saved report's ``query_config``."""

    table: str = Field(min_length=1, max_length=200)
    fields: list[SelectItem] = Field(default_factory=_all_fields, min_length=1, max_length=100)
    filters: list[Filter] = Field(default_factory=list, max_length=50)
    group_by: list[GroupByItem] = Field(default_factory=list, max_length=20)
    order_by: list[OrderItem] = Field(default_factory=list, max_length=10)
    limit: int | None = Field(default=None, ge=1)
    offset: int = Field(default=0, ge=0, le=10_000_000)
    timezone: str = Field(
        default="UTC", min_length=1, max_length=50, description="Zone for date buckets and plain dates."
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _star_alone(cls, value: Any) -> Any:
        """``"fields": "*"`` is the short form of ``["*"]`` (every whitelisted field)."""
        if isinstance(value, str):
            if value == "*":
                return ["*"]
            raise ValueError(
                'must be "*" (every whitelisted field) or a list of fields such as ["event_type", '
                '{"aggregate": "count"}]'
            )
        return value


_FILTERS = TypeAdapter(list[Filter])


def _loc(loc: Sequence[int | str], root: str) -> str:
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _TAGS:
            continue
        else:
            out += f".{part}" if out else part
    return out or "query"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_validation_error(exc: ValidationError, root: str = "") -> list[str]:
    """Pydantic errors as ``path: message (got ...)`` lines."""
    lines = []
    for err in exc.errors(include_url=False):
        where = _loc(err["loc"], root)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the query language)"
        elif err["type"] == "literal_error":
            msg = msg.replace("Input should be", "must be one of")
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        got = f" (got {_short(err['input'])})" if err["type"] not in ("missing",) else ""
        lines.append(f"{where}: {msg}{got}")
    return lines


def parse_query(config: Mapping[str, Any] | QuerySpec) -> QuerySpec:
    """``config`` as a QuerySpec, or a QueryValidationError listing every structural problem."""
    if isinstance(config, QuerySpec):
        return config
    if not isinstance(config, Mapping):
        raise QueryValidationError(f"query: must be a JSON object, got {type(config).__name__}")
    try:
        return QuerySpec.model_validate(dict(config))
    except ValidationError as exc:
        raise QueryValidationError(format_validation_error(exc)) from None


def parse_filters(filters: Sequence[Any] | None, root: str = "filters") -> list[Filter]:
    """A report's extra ``filters`` (a JSON list of filter objects)."""
    if filters is None:
        return []
    if not isinstance(filters, Sequence) or isinstance(filters, str | bytes):
        raise QueryValidationError(f"{root}: must be a JSON list of filters")
    try:
        return _FILTERS.validate_python(list(filters))
    except ValidationError as exc:
        raise QueryValidationError(format_validation_error(exc, root)) from None


def check_row_limit(row_limit: Any, max_row_limit: int, what: str = "row_limit") -> int:
    """``row_limit`` if it is an integer in 1..max_row_limit, else an error naming the maximum."""
    if isinstance(row_limit, bool) or not isinstance(row_limit, int):
        raise QueryValidationError(f"{what}: must be a whole number, got {_short(row_limit)}")
    if row_limit < 1 or row_limit > max_row_limit:
        raise QueryValidationError(
            f"{what}: {row_limit:,} is outside 1..{max_row_limit:,} (the maximum rows an export may "
            f"have; an operator can raise it with the exports resource's max_row_limit)"
        )
    return row_limit


def zone(name: str, what: str = "timezone") -> ZoneInfo:
    """The IANA zone ``name`` or a ValueError naming it (never a path or a file)."""
    try:
        if not name or len(name) > 50 or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"{what}: unknown time zone {_short(name)}; use an IANA name such as 'UTC', "
            f"'America/New_York' or 'Europe/Berlin'"
        ) from None


LIKE_RULES = (
    "in a like pattern % matches any run of characters, _ any one character, and a backslash makes "
    r"the next character literal: \% matches a percent sign, \_ an underscore, \\ one backslash "
    r"(in JSON each backslash is written twice: \\% and \\\\)"
)


def like_pattern_problem(pattern: str) -> str | None:
    """Why PostgreSQL would refuse ``pattern`` in ``LIKE`` (its escape character is the
    backslash), or None. The only such pattern ends in a backslash that escapes nothing; it is
    refused when a report is saved or previewed rather than failing every export of it."""
    escaped = False
    for char in pattern:
        escaped = not escaped and char == "\\"
    if escaped:
        return "ends with a single backslash, which escapes nothing"
    return None


# --- compiled form -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputColumn:
    """One column of the result: its name (header), type (for formatting) and origin."""

    name: str
    type: FieldType
    source: str
    """e.g. ``timestamp by day``, ``count_distinct(user_id)``, ``event_type``."""
    aggregate: str | None = None

    @property
    def label(self) -> str:
        """Header text for documents: ``total_events`` -> ``Total events``."""
        text = self.name.replace("_", " ").strip()
        return text[:1].upper() + text[1:] if text else self.name

    @property
    def summable(self) -> bool:
        """Whether a totals row may add this column up (counts, sums, plain numbers)."""
        if self.aggregate is None:
            return self.type == "integer"  # e.g. page views; averages/percentages do not add up
        return self.aggregate in ("count", "sum") and self.type in NUMERIC_TYPES  # distinct counts do not

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "source": self.source}


@dataclass(frozen=True)
class CompiledQuery:
    """Parameterized SQL for one report query and one tenant, in one engine's dialect.

    ``base`` has no LIMIT; :meth:`rows_sql` adds the row limit (and a page window). Values are
    in ``params`` in placeholder order; nothing user-supplied is in the SQL text.
    :meth:`in_dialect` spells the same query for another engine.
    """

    table: TableSpec
    base: sql.Composed
    params: tuple[Any, ...]
    columns: tuple[OutputColumn, ...]
    limit: int
    """Maximum rows of the result (query limit capped by the report's row limit)."""
    offset: int
    ordered: bool
    tenant_id: str
    as_of: dt.datetime
    filters_text: tuple[str, ...] = field(default=())
    """Human-readable filters (PDF header), the tenant filter first."""
    spec: QuerySpec | None = None
    extra_filters: tuple[Filter, ...] = ()
    row_limit: int = DEFAULT_ROW_LIMIT
    max_row_limit: int = DEFAULT_MAX_ROW_LIMIT
    dialect: Dialect = POSTGRES

    def in_dialect(self, dialect: Dialect) -> CompiledQuery:
        """The same query (same checks, same ``as_of``) spelled for ``dialect``."""
        if dialect == self.dialect or self.spec is None:
            return self
        return _Compiler(
            self.spec,
            tenant_id=self.tenant_id,
            row_limit=self.row_limit,
            max_row_limit=self.max_row_limit,
            as_of=self.as_of,
            extra_filters=self.extra_filters,
            dialect=dialect,
        ).compile()

    def _window(self, count: int, offset: int) -> tuple[sql.Composable, tuple[Any, ...]]:
        n = len(self.params)
        clause = sql.SQL(" LIMIT {} OFFSET {}").format(
            self.dialect.placeholder(n, "count"), self.dialect.placeholder(n + 1, "count")
        )
        return clause, (*self.params, count, offset)

    def rows_sql(self, *, page_offset: int = 0, page_size: int | None = None) -> tuple[sql.Composed, tuple]:
        """The result rows (optionally one window of them), never more than ``limit``."""
        remaining = max(self.limit - page_offset, 0)
        count = remaining if page_size is None else min(page_size, remaining)
        window, params = self._window(count, self.offset + page_offset)
        return sql.Composed([self.base, window]), params

    def preview_sql(self, *, page_offset: int, page_size: int) -> tuple[sql.Composed, tuple]:
        """A page for a preview: ordered by every column when the query has no order, so
        pages are stable."""
        if self.ordered:
            return self.rows_sql(page_offset=page_offset, page_size=page_size)
        positions = sql.SQL(", ").join(sql.SQL(str(i)) for i in range(1, len(self.columns) + 1))
        remaining = max(self.limit - page_offset, 0)
        window, params = self._window(min(page_size, remaining), self.offset + page_offset)
        return sql.SQL("{} ORDER BY {}{}").format(self.base, positions, window), params

    def count_sql(self) -> tuple[sql.Composed, tuple]:
        """How many rows the (row-limited) result has."""
        inner, params = self.rows_sql()
        return sql.SQL("SELECT count(*) AS total FROM ({}) AS q").format(inner), params

    def _chart_select(self, rows: sql.Composable, x: str, y: str, n: int) -> sql.Composed:
        return sql.SQL("SELECT {x} AS x, {y} AS y FROM {rows} GROUP BY {x} ORDER BY {x} LIMIT {n}").format(
            x=sql.Identifier(x),
            y=self.dialect.float_sum(sql.Identifier(y)),
            rows=rows,
            n=self.dialect.placeholder(n, "count"),
        )

    def chart_sql(self, x: str, y: str, max_points: int) -> tuple[sql.Composed, tuple]:
        """``y`` added up per ``x`` over the row-limited result (``x``/``y`` must be output
        columns; checked by the caller), the first ``max_points`` values of ``x``."""
        inner, params = self.rows_sql()
        rows = sql.SQL("({}) AS q").format(inner)
        return self._chart_select(rows, x, y, len(params)), (*params, max_points)

    def count_chart_sql(self, x: str, y: str, max_points: int) -> tuple[sql.Composed, tuple]:
        """:meth:`count_sql` and :meth:`chart_sql` in one statement, the row-limited result
        computed once: one row per chart point (x, y, total), none when the result is empty."""
        inner, params = self.rows_sql()
        statement = sql.SQL(
            "WITH q AS ({}) SELECT c.x, c.y, (SELECT count(*) FROM q) AS total FROM ({}) AS c ORDER BY c.x"
        ).format(inner, self._chart_select(sql.Identifier("q"), x, y, len(params)))
        return statement, (*params, max_points)

    def column(self, name: str) -> OutputColumn | None:
        return next((c for c in self.columns if c.name == name), None)


class _Params:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def add(self, value: Any, type_: ParamType, *, array: bool = False) -> sql.Composable:
        self.values.append(value)
        return self.dialect.placeholder(len(self.values) - 1, type_, array=array)


@dataclass
class _Select:
    expr: sql.Composable
    column: OutputColumn
    group_key: tuple[str, str | None] | None
    """(field, bucket) for non-aggregates; None for aggregates."""


class _Compiler:
    def __init__(
        self,
        spec: QuerySpec,
        *,
        tenant_id: str,
        row_limit: int,
        max_row_limit: int,
        as_of: dt.datetime,
        extra_filters: Sequence[Filter],
        dialect: Dialect = POSTGRES,
    ) -> None:
        self.spec = spec
        self.dialect = dialect
        self.tenant_id = tenant_id
        self.row_limit = row_limit
        self.max_row_limit = max_row_limit
        self.as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
        self.extra_filters = list(extra_filters)
        self.problems: list[str] = []
        self.params = _Params(dialect)
        self.table: TableSpec | None = None
        self.tz: ZoneInfo | None = None

    # -- helpers
    def problem(self, text: str) -> None:
        self.problems.append(text)

    def lookup(self, name: str, where: str) -> tuple[str, FieldType] | None:
        assert self.table is not None
        spec = self.table.field(name)
        if spec is None:
            allowed = ", ".join(self.table.field_names)
            self.problem(
                f"{where}: unknown field {_short(name)} in table {self.table.name}; allowed fields: {allowed}"
            )
            return None
        return spec.name, spec.type

    def column_ref(self, name: str) -> sql.Composable:
        return sql.Identifier("t", name)

    def bucket_expr(self, name: str, bucket: str) -> sql.Composable:
        col = self.column_ref(name)
        return self.dialect.bucket(col, bucket, self.params.add(self.spec.timezone, "text"))

    def output_name(self, alias: str | None, default: str, where: str) -> str:
        name = alias if alias is not None else default
        if not _OUTPUT_NAME.match(name):
            self.problem(
                f"{where}: column name {_short(name)} must be lowercase letters, digits and _ "
                f"(starting with a letter or _), at most 63 characters"
            )
        return name

    # -- parts
    def compile_select(self) -> list[_Select]:
        assert self.table is not None
        items = self.spec.fields
        if any(isinstance(i, str) and i == "*" for i in items):
            if len(items) != 1:
                self.problem("fields: '*' (every whitelisted field) cannot be combined with other fields")
                return []
            return [
                _Select(self.column_ref(f.name), OutputColumn(f.name, f.type, f.name), (f.name, None))
                for f in self.table.fields
            ]
        selects: list[_Select] = []
        for i, item in enumerate(items):
            where = f"fields[{i}]"
            if isinstance(item, str):
                item = FieldItem(field=item)
            if isinstance(item, FieldItem):
                found = self.lookup(item.field, f"{where}.field" if not isinstance(items[i], str) else where)
                if found is None:
                    continue
                name, type_ = found
                if item.bucket is not None:
                    if type_ not in ("timestamp", "date"):
                        self.problem(
                            f"{where}.bucket: {name} is {type_}; day/week/month buckets apply to "
                            f"timestamp fields only"
                        )
                        continue
                    out = self.output_name(item.alias, f"{name}_{item.bucket}", f"{where}.as")
                    selects.append(
                        _Select(
                            self.bucket_expr(name, item.bucket),
                            OutputColumn(out, "date", f"{name} by {item.bucket}"),
                            (name, item.bucket),
                        )
                    )
                else:
                    out = self.output_name(item.alias, name, f"{where}.as")
                    selects.append(
                        _Select(self.column_ref(name), OutputColumn(out, type_, name), (name, None))
                    )
                continue
            selects.extend(self.compile_aggregate(item, where))
        names = [s.column.name for s in selects]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            self.problem(f'fields: column name {dup!r} is used twice; rename one with "as"')
        return selects

    def compile_aggregate(self, item: AggregateItem, where: str) -> list[_Select]:
        fn = item.aggregate
        if item.field == "*":
            if fn != "count":
                self.problem(f"{where}.field: {fn} needs a field ('*' only works with count)")
                return []
            out = self.output_name(item.alias, "count", f"{where}.as")
            return [_Select(sql.SQL("count(*)"), OutputColumn(out, "integer", "count(*)", "count"), None)]
        found = self.lookup(item.field, f"{where}.field")
        if found is None:
            return []
        name, type_ = found
        col = self.column_ref(name)
        out = self.output_name(item.alias, f"{fn}_{name}", f"{where}.as")
        source = f"{fn}({name})"
        if fn == "count":
            return [_Select(sql.SQL("count({})").format(col), OutputColumn(out, "integer", source, fn), None)]
        if fn == "count_distinct":
            expr = self.dialect.count_distinct(col)
            return [_Select(expr, OutputColumn(out, "integer", source, fn), None)]
        if fn in ("sum", "avg"):
            if type_ not in NUMERIC_TYPES:
                self.problem(f"{where}.aggregate: {fn} needs a number field; {name} is {type_}")
                return []
            if fn == "avg":
                expr = self.dialect.average(col)
                return [_Select(expr, OutputColumn(out, "number", source, fn), None)]
            expr = self.dialect.total(col, type_)
            return [_Select(expr, OutputColumn(out, type_, source, fn), None)]
        if type_ == "boolean":
            self.problem(f"{where}.aggregate: {fn} does not apply to boolean field {name}")
            return []
        expr = self.dialect.extreme(
            "min" if fn == "min" else "max", col
        )  # the other functions returned above
        return [_Select(expr, OutputColumn(out, type_, source, fn), None)]

    def compile_filter(self, flt: Filter, where: str) -> tuple[sql.Composable, str] | None:
        found = self.lookup(flt.field, f"{where}.field")
        if found is None:
            return None
        name, type_ = found
        col = self.column_ref(name)
        op = flt.op
        expr: sql.Composable
        if name == TENANT_FIELD:
            return self.tenant_filter(flt, where)
        if op in _COMPARISON:
            value = self.value(flt.value, type_, f"{where}.value")
            if value is _BAD:
                return None
            expr = sql.SQL("{} {} {}").format(col, _COMPARISON[op], self.params.add(value, type_))
            return expr, f"{name} {_SYMBOL[op]} {_show(value)}"
        if op == "in":
            if not isinstance(flt.value, list) or not 1 <= len(flt.value) <= MAX_IN_VALUES:
                self.problem(f"{where}.value: 'in' needs a list of 1 to {MAX_IN_VALUES} values")
                return None
            values = [self.value(v, type_, f"{where}.value[{j}]") for j, v in enumerate(flt.value)]
            if any(v is _BAD for v in values):
                return None
            expr = self.dialect.any_of(col, self.params.add(values, type_, array=True), type_)
            shown = ", ".join(_show(v) for v in values[:10]) + (", ..." if len(values) > 10 else "")
            return expr, f"{name} in ({shown})"
        if op == "between":
            if not isinstance(flt.value, list) or len(flt.value) != 2:
                self.problem(f"{where}.value: 'between' needs a list of two values [low, high]")
                return None
            low = self.value(flt.value[0], type_, f"{where}.value[0]")
            high = self.value(flt.value[1], type_, f"{where}.value[1]")
            if low is _BAD or high is _BAD:
                return None
            expr = sql.SQL("{} BETWEEN {} AND {}").format(
                col, self.params.add(low, type_), self.params.add(high, type_)
            )
            return expr, f"{name} between {_show(low)} and {_show(high)}"
        if op == "like":
            if type_ != "text":
                self.problem(f"{where}.op: 'like' applies to text fields only; {name} is {type_}")
                return None
            value = self.value(flt.value, "text", f"{where}.value")
            if value is _BAD:
                return None
            problem = like_pattern_problem(value)
            if problem:
                self.problem(
                    f"{where}.value: the like pattern {_short(value)} on {name} {problem}; {LIKE_RULES}"
                )
                return None
            expr = sql.SQL("{} LIKE {}").format(col, self.params.add(value, "text"))
            return expr, f"{name} like {_show(value)}"
        # op == "last"
        if type_ != "timestamp":
            self.problem(
                f"{where}.op: 'last' (a relative date range) applies to timestamp fields; {name} is {type_}"
            )
            return None
        rel = flt.value
        amount = rel.get("amount") if isinstance(rel, dict) else None
        unit = rel.get("unit") if isinstance(rel, dict) else None
        if (
            not isinstance(rel, dict)
            or set(rel) != {"amount", "unit"}
            or isinstance(amount, bool)
            or not isinstance(amount, int)
            or not 1 <= amount <= MAX_RELATIVE_AMOUNT
            or unit not in _RELATIVE_UNITS
        ):
            self.problem(
                f'{where}.value: \'last\' needs {{"amount": 1..{MAX_RELATIVE_AMOUNT}, "unit": '
                f'"hours"|"days"|"weeks"|"months"}}, got {_short(rel)}'
            )
            return None
        assert isinstance(unit, str)
        as_of = self.params.add(self.as_of, "timestamp")
        amount_param = self.params.add(amount, "integer")
        as_of_again = self.params.add(self.as_of, "timestamp")
        expr = self.dialect.last(col, unit, amount_param, as_of, as_of_again)
        return expr, f"{name} in the last {amount} {unit} (before {self.as_of:%Y-%m-%d %H:%M} UTC)"

    def tenant_filter(self, flt: Filter, where: str) -> tuple[sql.Composable, str] | None:
        values = flt.value if flt.op == "in" and isinstance(flt.value, list) else [flt.value]
        if flt.op not in ("eq", "in") or any(v != self.tenant_id for v in values):
            self.problem(
                f"{where}: a filter on tenant_id may only name your own tenant ({self.tenant_id!r}) "
                f"with eq/in (got {flt.op} {_short(flt.value)}); reports read only their tenant's data "
                f"and the tenant filter is added automatically, so remove this filter"
            )
            return None
        return None  # redundant with the injected tenant filter

    def value(self, value: Any, type_: FieldType, where: str) -> Any:
        """``value`` checked (and parsed) for a field of ``type_``, or _BAD (problem recorded)."""
        if value is None:
            self.problem(f"{where}: a value is required (use a {type_})")
            return _BAD
        if type_ == "text":
            if not isinstance(value, str):
                self.problem(f"{where}: expected text, got {_short(value)}")
                return _BAD
            if len(value) > MAX_TEXT_VALUE:
                self.problem(f"{where}: text values are limited to {MAX_TEXT_VALUE} characters")
                return _BAD
            if "\x00" in value:
                self.problem(f"{where}: text values cannot contain NUL characters")
                return _BAD
            return value
        if type_ == "integer":
            if isinstance(value, bool) or not isinstance(value, int) or not _INT8[0] <= value <= _INT8[1]:
                self.problem(f"{where}: expected a whole number, got {_short(value)}")
                return _BAD
            return value
        if type_ == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                self.problem(f"{where}: expected a number, got {_short(value)}")
                return _BAD
            return value
        if type_ == "boolean":
            if not isinstance(value, bool):
                self.problem(f"{where}: expected true or false, got {_short(value)}")
                return _BAD
            return value
        # timestamp / date: ISO 8601 text
        if not isinstance(value, str) or len(value) > 40:
            self.problem(
                f"{where}: expected an ISO date or time such as '2025-06-17' or '2025-06-17T09:00:00Z'"
            )
            return _BAD
        try:
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                if type_ == "date":
                    return day
                return dt.datetime.combine(day, dt.time(), tzinfo=self.tz or dt.UTC)
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.problem(f"{where}: {_short(value)} is not an ISO date or time (e.g. '2025-06-17T09:00:00Z')")
            return _BAD
        if type_ == "date":
            return moment.date()
        return moment if moment.tzinfo else moment.replace(tzinfo=self.tz or dt.UTC)

    def compile_group_by(self, selects: list[_Select]) -> list[sql.Composable]:
        by_alias = {s.column.name: s for s in selects if s.group_key is not None}
        exprs: list[sql.Composable] = []
        keys: list[tuple[str, str | None]] = []
        for i, item in enumerate(self.spec.group_by):
            where = f"group_by[{i}]"
            if isinstance(item, str) and item in by_alias:
                key = by_alias[item].group_key
                assert key is not None
            else:
                group = GroupItem(field=item) if isinstance(item, str) else item
                found = self.lookup(group.field, where if isinstance(item, str) else f"{where}.field")
                if found is None:
                    continue
                name, type_ = found
                if group.bucket is not None and type_ not in ("timestamp", "date"):
                    self.problem(f"{where}.bucket: {name} is {type_}; buckets apply to timestamp fields only")
                    continue
                key = (name, group.bucket)
            keys.append(key)
            position = next((j for j, s in enumerate(selects) if s.group_key == key), None)
            if position is not None:
                exprs.append(sql.SQL(str(position + 1)))  # by position: the select's parameters stay shared
            elif key[1] is None:
                exprs.append(self.column_ref(key[0]))
            else:
                exprs.append(self.bucket_expr(key[0], key[1]))
        for j, s in enumerate(selects):
            if s.group_key is not None and s.group_key not in keys:
                self.problem(
                    f"fields[{j}]: {s.column.source} is neither aggregated nor in group_by; add it to "
                    f"group_by or aggregate it"
                )
        return exprs

    def compile_order(self, selects: list[_Select], grouped: bool) -> list[sql.Composable]:
        assert self.table is not None
        names = {s.column.name for s in selects}
        out: list[sql.Composable] = []
        for i, item in enumerate(self.spec.order_by):
            direction = self.dialect.direction(item.direction)
            if item.field in names:
                out.append(sql.SQL("{} {}").format(sql.Identifier(item.field), direction))
            elif not grouped and self.table.field(item.field) is not None:
                out.append(sql.SQL("{} {}").format(self.column_ref(item.field), direction))
            else:
                choices = (
                    ", ".join(sorted(names))
                    if grouped
                    else ", ".join(sorted(names | set(self.table.field_names)))
                )
                self.problem(
                    f"order_by[{i}].field: {_short(item.field)} is not a result column; "
                    f"order by one of: {choices}"
                )
        return out

    def compile(self) -> CompiledQuery:
        spec = self.spec
        table = TABLES.get(spec.table)
        if table is None:
            raise QueryValidationError(
                f"table: unknown table {_short(spec.table)}; available tables: {', '.join(sorted(TABLES))}"
            )
        self.table = table
        try:
            self.tz = zone(spec.timezone, "timezone")
        except ValueError as exc:
            self.problem(str(exc))
        if spec.limit is not None and spec.limit > self.max_row_limit:
            self.problem(
                f"limit: {spec.limit:,} is above the maximum of {self.max_row_limit:,} rows per export"
            )
        selects = self.compile_select()
        tenant = self.params.add(self.tenant_id, "text")
        where: list[sql.Composable] = [sql.SQL("{} = {}").format(self.column_ref(TENANT_FIELD), tenant)]
        shown = [f"tenant_id = {self.tenant_id!r} (always applied)"]
        for root, flts in (("filters", spec.filters), ("report filters", self.extra_filters)):
            for i, flt in enumerate(flts):
                compiled = self.compile_filter(flt, f"{root}[{i}]")
                if compiled is not None:
                    where.append(sql.SQL("({})").format(compiled[0]))
                    shown.append(compiled[1])
        grouped = bool(spec.group_by) or any(isinstance(item, AggregateItem) for item in spec.fields)
        group_by = self.compile_group_by(selects) if grouped else []
        order = self.compile_order(selects, grouped)
        if self.problems:
            raise QueryValidationError(self.problems)
        parts: list[sql.Composable] = [
            sql.SQL("SELECT {} FROM {} AS t WHERE {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{} AS {}").format(s.expr, sql.Identifier(s.column.name)) for s in selects
                ),
                self.dialect.table(table),
                sql.SQL(" AND ").join(where),
            )
        ]
        if group_by:
            parts.append(sql.SQL(" GROUP BY {}").format(sql.SQL(", ").join(group_by)))
        if order:
            parts.append(sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(order)))
        limit = min(spec.limit or self.row_limit, self.row_limit)
        return CompiledQuery(
            table=table,
            base=sql.Composed(parts),
            params=tuple(self.params.values),
            columns=tuple(s.column for s in selects),
            limit=limit,
            offset=spec.offset,
            ordered=bool(order),
            tenant_id=self.tenant_id,
            as_of=self.as_of,
            filters_text=tuple(shown),
            spec=spec,
            extra_filters=tuple(self.extra_filters),
            row_limit=self.row_limit,
            max_row_limit=self.max_row_limit,
            dialect=self.dialect,
        )


class _BadValue:
    pass


_BAD: Any = _BadValue()
_SYMBOL = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return str(value)


def compile_query(
    config: Mapping[str, Any] | QuerySpec,
    *,
    tenant_id: str,
    row_limit: int = DEFAULT_ROW_LIMIT,
    max_row_limit: int = DEFAULT_MAX_ROW_LIMIT,
    as_of: dt.datetime | None = None,
    extra_filters: Sequence[Any] | None = None,
    dialect: Dialect = POSTGRES,
) -> CompiledQuery:
    """Validate ``config`` and compile it for ``tenant_id``; raise QueryValidationError with
    every problem (path: message) when it is not a valid query.

    ``as_of`` is the instant relative ranges ("last 7 days") end at (default: now).
    ``extra_filters`` are the report's own ``filters`` (ANDed like the query's).
    ``dialect`` is the engine the SQL is for (PostgreSQL unless said otherwise).
    """
    if not tenant_id:
        raise QueryValidationError("tenant: a query always runs for one tenant; none was given")
    spec = parse_query(config)
    check_row_limit(row_limit, max_row_limit)
    extra = parse_filters(extra_filters, "report filters") if extra_filters else []
    return _Compiler(
        spec,
        tenant_id=tenant_id,
        row_limit=row_limit,
        max_row_limit=max_row_limit,
        as_of=as_of or dt.datetime.now(dt.UTC),
        extra_filters=extra,
        dialect=dialect,
    ).compile()


USAGE_SUMMARY_QUERY: dict[str, Any] = {
    "table": "usage_events",
    "fields": [
        {"field": "timestamp", "bucket": "day", "as": "date"},
        {"aggregate": "count", "as": "total_events"},
        {"aggregate": "count_distinct", "field": "user_id", "as": "unique_users"},
        {"aggregate": "count_distinct", "field": "device_id", "as": "unique_devices"},
        "event_type",
        "tenant_id",
    ],
    "filters": [{"field": "timestamp", "op": "last", "value": {"amount": 7, "unit": "days"}}],
    "group_by": ["date", "event_type", "tenant_id"],
    "order_by": [{"field": "date", "direction": "desc"}, {"field": "event_type", "direction": "asc"}],
}
"""The default "Usage Summary" report's query, in the DSL (no raw SQL)."""
