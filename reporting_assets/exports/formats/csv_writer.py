"""CSV written exactly as PostgreSQL's ``COPY ... (FORMAT csv, HEADER true)`` writes it, for
sources that cannot produce that CSV themselves (ClickHouse).

PostgreSQL exports use ``COPY ... TO STDOUT`` (``PostgresAnalyticsSource.copy_csv``); this writer
gives the same bytes for the same rows, so an export is the same file whichever engine made it:
UTF-8, ``\\n`` line ends, a field quoted only when it holds a comma, a quote, CR or LF or is the
empty string (NULL is an empty unquoted field), quotes doubled; text neutralized against formula
injection; numbers, dates and times in PostgreSQL's text forms (``t``/``f``, shortest round-trip
floats such as ``100`` and ``1e+15``, ``2025-06-17 09:30:00.5+00`` in UTC).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

from reporting_assets.exports.dsl import OutputColumn
from reporting_assets.exports.formats.cells import neutralize

_NEEDS_QUOTES = frozenset(',"\n\r')


def csv_field(text: str) -> str:
    """``text`` as one CSV field, quoted when COPY would quote it."""
    if text == "" or not _NEEDS_QUOTES.isdisjoint(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def pg_float(value: float) -> str:
    """A double as PostgreSQL prints it (shortest round-trip digits; fixed notation for
    decimal exponents -4..14, else ``d.ddde+XX``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = repr(value)
    if "e" not in text and abs(value) < 1e15:
        return text[:-2] if text.endswith(".0") else text
    sign, digits, exponent = Decimal(text).normalize().as_tuple()
    leading = len(digits) + int(exponent) - 1
    mantissa = "".join(map(str, digits))
    head = "-" if sign else ""
    if -4 <= leading < 15:
        if int(exponent) >= 0:
            return head + mantissa + "0" * int(exponent)
        point = len(mantissa) + int(exponent)
        if point <= 0:
            return head + "0." + "0" * -point + mantissa
        return head + mantissa[:point] + "." + mantissa[point:]
    fraction = "." + mantissa[1:] if len(mantissa) > 1 else ""
    return f"{head}{mantissa[0]}{fraction}e{'-' if leading < 0 else '+'}{abs(leading):02d}"


def pg_timestamp(value: dt.datetime) -> str:
    """A timestamptz as PostgreSQL prints it in a UTC session: ``2025-06-17 09:30:00.5+00``."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + ("+00" if value.tzinfo is not None else "")


def _text(value: Any) -> str:
    return csv_field(neutralize(value)) if isinstance(value, str) else _value(value)


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return pg_float(value)
    if isinstance(value, dt.datetime):
        return pg_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    return csv_field(str(value))


def _cell_writer(column: OutputColumn) -> Callable[[Any], str]:
    return _text if column.type == "text" else _value


def write_csv(columns: Sequence[OutputColumn], batches: Iterable[Sequence[tuple]], out: IO[bytes]) -> int:
    """Write a header and every row; return the number of rows."""
    writers = [_cell_writer(c) for c in columns]
    single = len(columns) == 1
    out.write((",".join(csv_field(c.name) for c in columns) + "\n").encode("utf-8"))
    rows = 0
    for batch in batches:
        lines = []
        for row in batch:
            line = ",".join([w(v) for w, v in zip(writers, row, strict=True)])
            lines.append('"\\."' if single and line == "\\." else line)  # COPY quotes a lone \. field
        out.write(("\n".join(lines) + "\n").encode("utf-8") if lines else b"")
        rows += len(batch)
    return rows
