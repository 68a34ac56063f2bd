"""XLSX with xlsxwriter in constant-memory mode: each row is flushed to a temp file as soon as
it is written, so memory stays flat for a million rows.

Formatting: bold, filled, frozen header row with an autofilter; column widths from the header
and the first batch; thousands separators for integers, two decimals for numbers, ISO dates and
date-times (UTC). Text cells are written as strings (never as formulas) and neutralized like CSV;
text longer than Excel's cell limit is cut. A second sheet, "About", records the report, its
filters, when it was generated and whether the row limit cut the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from reporting_assets.exports.dsl import OutputColumn
from reporting_assets.exports.errors import ExportError
from reporting_assets.exports.formats.cells import XLSX_MAX_TEXT, clip, display, neutralize
from reporting_assets.exports.formats.info import DocumentInfo

XLSX_MAX_ROWS = 1_048_575  # plus the header row
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def _writer(ws: Worksheet, column: OutputColumn, formats: dict[str, Any]) -> Callable[[int, int, Any], Any]:
    """A function writing one cell of ``column`` (chosen once per column, not per cell)."""
    if column.type == "text":

        def write_text(r: int, c: int, v: Any) -> Any:
            return ws.write_string(r, c, clip(neutralize(str(v)), XLSX_MAX_TEXT))

        return write_text
    if column.type == "integer":
        fmt = formats["integer"]
        return lambda r, c, v: ws.write_number(r, c, v, fmt)
    if column.type == "number":
        fmt = formats["number"]
        return lambda r, c, v: ws.write_number(r, c, float(v) if isinstance(v, Decimal) else v, fmt)
    if column.type == "timestamp":
        fmt = formats["timestamp"]

        def write_ts(r: int, c: int, v: Any) -> Any:
            if isinstance(v, dt.datetime) and v.tzinfo is not None:
                v = v.astimezone(dt.UTC).replace(tzinfo=None)
            return ws.write_datetime(r, c, v, fmt)

        return write_ts
    if column.type == "date":
        fmt = formats["date"]
        return lambda r, c, v: ws.write_datetime(r, c, v, fmt)
    return lambda r, c, v: ws.write_boolean(r, c, bool(v))


def _widths(columns: Sequence[OutputColumn], sample: Sequence[tuple]) -> list[int]:
    widths = []
    for i, column in enumerate(columns):
        longest = max((len(display(row[i])) for row in sample[:200]), default=0)
        if column.type == "timestamp":
            longest = max(longest, 19)
        widths.append(min(max(len(column.name) + 2, longest + 2, _MIN_WIDTH), _MAX_WIDTH))
    return widths


def write_xlsx(
    path: Path,
    columns: Sequence[OutputColumn],
    batches: Iterable[Sequence[tuple]],
    info: DocumentInfo,
) -> int:
    """Write the rows of ``batches`` to ``path``; return the number of rows."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "in_memory": False})
    # the document's creation date is the report's generation time, not the clock: the same rows
    # and generation time give the same bytes, whichever analytics engine they came from
    workbook.set_properties({"created": info.generated_at.astimezone(dt.UTC).replace(tzinfo=None)})
    try:
        ws = workbook.add_worksheet("Report")
        formats = {
            "header": workbook.add_format(
                {"bold": True, "bg_color": "#DDE4EE", "bottom": 1, "text_wrap": False, "valign": "vcenter"}
            ),
            "integer": workbook.add_format({"num_format": "#,##0"}),
            "number": workbook.add_format({"num_format": "#,##0.00"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "timestamp": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }
        writers = [_writer(ws, c, formats) for c in columns]
        ncols = len(columns)
        ws.freeze_panes(1, 0)
        row = 0
        started = False
        for batch in batches:
            if not started:
                for i, width in enumerate(_widths(columns, batch)):
                    ws.set_column(i, i, width)
                ws.write_row(0, 0, [c.name for c in columns], formats["header"])
                started = True
            if row + len(batch) > XLSX_MAX_ROWS:
                raise ExportError(
                    f"An XLSX sheet holds at most {XLSX_MAX_ROWS:,} rows; lower the report's row_limit "
                    f"or export CSV."
                )
            for values in batch:
                row += 1
                for c in range(ncols):
                    value = values[c]
                    if value is not None:
                        writers[c](row, c, value)
        if not started:
            for i, width in enumerate(_widths(columns, [])):
                ws.set_column(i, i, width)
            ws.write_row(0, 0, [c.name for c in columns], formats["header"])
        ws.autofilter(0, 0, row, max(ncols - 1, 0))
        _about(workbook, info, row)
    finally:
        workbook.close()
    return row


def _about(workbook: xlsxwriter.Workbook, info: DocumentInfo, rows: int) -> None:
    ws = workbook.add_worksheet("About")
    bold = workbook.add_format({"bold": True})
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 100)
    limited = " (the row limit cut the result)" if rows >= info.row_limit else ""
    lines = [
        ("Report", info.title),
        ("Description", info.description or ""),
        ("Tenant", info.tenant_id),
        ("Generated", f"{info.generated_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"),
        ("Rows", f"{rows:,} of at most {info.row_limit:,}{limited}"),
    ] + [("Filter", f) for f in info.filters]
    for r, (key, value) in enumerate(lines):
        ws.write_string(r, 0, key, bold)
        ws.write_string(r, 1, clip(neutralize(value), XLSX_MAX_TEXT))
