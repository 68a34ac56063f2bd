"""CSV lines spelled in ClickHouse SQL, byte for byte as PostgreSQL's ``COPY ... (FORMAT csv,
HEADER true)`` writes them, so ClickHouse formats every cell itself and Python only moves bytes.

:func:`csv_lines_sql` wraps a report query in a SELECT of one String per row: the CSV line
without its ``\\n``. The rules are COPY's: NULL is an empty unquoted field; a field is quoted
only when it is the empty string or holds a comma, a quote, CR or LF, quotes doubled; text is
neutralized against formula injection first (``source.neutralize_sql``, the SQL PostgreSQL's
export uses too); booleans ``t``/``f``; dates ISO; timestamps in UTC as
``2025-06-17 09:30:00.5+00`` (microseconds without trailing zeros); a one-column line that is
``\\.`` alone is quoted (COPY would otherwise write its end-of-data marker).

Floats: PostgreSQL prints a double's shortest round-trip digits, in fixed notation for decimal
exponents -4..14 and as ``d.ddde+XX`` otherwise (``NaN``, ``Infinity``, ``-Infinity``).
ClickHouse's ``toString`` prints the same shortest digits, in fixed notation for the range
PostgreSQL uses too, so there it is taken as it is; outside, its digits and exponent (from
``1e-7``, ``0.00001`` or ``1000000000000000``) are rewritten into PostgreSQL's form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from psycopg import sql

from reporting_assets.exports.dsl import OutputColumn
from reporting_assets.exports.source import neutralize_sql

_NEEDS_QUOTES = frozenset(',"\n\r')


def csv_field(text: str) -> str:
    """``text`` as one CSV field, quoted when COPY would quote it (the header line)."""
    if text == "" or not _NEEDS_QUOTES.isdisjoint(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def header_line(columns: Sequence[OutputColumn]) -> bytes:
    """The header COPY writes: the column names as CSV fields."""
    return (",".join(csv_field(c.name) for c in columns) + "\n").encode("utf-8")


def _text(value: sql.Composable) -> sql.Composable:
    return sql.SQL(
        "if({t} = '' OR multiSearchAny({t}, [',', '\"', '\\r', '\\n']), "
        "concat('\"', replaceAll({t}, '\"', '\"\"'), '\"'), {t})"
    ).format(t=neutralize_sql(sql.SQL("toString({})").format(value)))


def _float(value: sql.Composable) -> sql.Composable:
    x = sql.SQL("toFloat64({})").format(value)
    shown = sql.SQL("toString(abs({}))").format(x)  # 1e-7, 0.00001, 1000000000000000, 1.5e300
    mantissa = sql.SQL("splitByChar('e', {})[1]").format(shown)
    exponent = sql.SQL("if(position({s}, 'e') > 0, toInt32(splitByChar('e', {s})[2]), 0)").format(s=shown)
    all_digits = sql.SQL("replaceOne({}, '.', '')").format(mantissa)
    significant = sql.SQL("trim(LEADING '0' FROM {})").format(all_digits)
    digits = sql.SQL("trim(TRAILING '0' FROM {})").format(significant)
    # the decimal exponent of the first significant digit
    leading = sql.SQL(
        "(length(splitByChar('.', {m})[1]) - 1 - (length({all}) - length({sig})) + {e})"
    ).format(m=mantissa, all=all_digits, sig=significant, e=exponent)
    scientific = sql.SQL(
        "concat(if({x} < 0, '-', ''), substring({d}, 1, 1), "
        "if(length({d}) > 1, concat('.', substring({d}, 2)), ''), "
        "if({lead} < 0, 'e-', 'e+'), if(abs({lead}) < 10, '0', ''), toString(abs({lead})))"
    ).format(x=x, d=digits, lead=leading)
    return sql.SQL(
        "multiIf(isNaN({x}), 'NaN', isInfinite({x}), if({x} > 0, 'Infinity', '-Infinity'), "
        "{x} = 0 OR (abs({x}) >= 1e-4 AND abs({x}) < 1e15), toString({x}), {scientific})"
    ).format(x=x, scientific=scientific)


def _timestamp(value: sql.Composable) -> sql.Composable:
    return sql.SQL(
        "concat(trim(TRAILING '.' FROM trim(TRAILING '0' FROM formatDateTime(toDateTime64({}, 6, 'UTC'), "
        "'%Y-%m-%d %H:%i:%S.%f', 'UTC'))), '+00')"
    ).format(value)


_FIELD: dict[str, Callable[[sql.Composable], sql.Composable]] = {
    "text": _text,
    "integer": lambda v: sql.SQL("toString({})").format(v),
    "number": _float,
    "timestamp": _timestamp,
    "date": lambda v: sql.SQL("toString({})").format(v),
    "boolean": lambda v: sql.SQL("if({}, 't', 'f')").format(v),
}


def _field(column: OutputColumn) -> sql.Composable:
    value = sql.Identifier("q", column.name)
    return sql.SQL("if(isNull({v}), '', {f})").format(
        v=value, f=_FIELD[column.type](sql.SQL("assumeNotNull({})").format(value))
    )


def csv_lines_sql(statement: sql.Composable, columns: Sequence[OutputColumn]) -> sql.Composed:
    """``SELECT line FROM (statement)``: each row of ``statement`` as its CSV line (no ``\\n``)."""
    if len(columns) == 1:
        line = sql.SQL("if({f} = '\\\\.', '\"\\\\.\"', {f})").format(f=_field(columns[0]))
    else:
        line = sql.SQL("concat({})").format(sql.SQL(", ',', ").join(_field(c) for c in columns))
    return sql.SQL("SELECT {} AS line FROM ({}) AS q").format(line, statement)
