"""Cell values made safe and readable for export files.

Formula injection: spreadsheet programs run a text cell that starts with ``= + - @`` (or a
TAB/CR that they strip first) as a formula, so an event name like ``=HYPERLINK(...)`` could act
when someone opens the export. Such text gets a leading ``'``, the OWASP recommendation: it
shows the text as typed and is never evaluated. Numbers are not text and stay numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_TEXT = 32_767
"""Excel's limit for one cell; longer text is cut (with a marker) rather than refused."""


def neutralize(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in ``…`` when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display(value: Any) -> str:
    """A value as one line of text for documents (PDF cells, previews)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return (
            value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if value.tzinfo else value.isoformat(" ")
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return " ".join(text.split()) if any(c in text for c in "\n\r\t") else text


def jsonable(value: Any) -> Any:
    """A value for JSON output (previews, the CLI's ``--json``)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
