"""The fingerprint of an error or warning message: the message with what changes from one
occurrence to the next masked, so "order 1041 failed" and "order 977 failed" are one pattern.

Masked, in this order: control characters and runs of whitespace (one space), quoted values,
timestamps, UUIDs, hex ids, long ids mixing letters and digits, and numbers. The rules are
written once, in a regular expression dialect Python's ``re`` and PostgreSQL's ARE read alike
(explicit character classes, lookarounds, no ``\\b``/``\\d``/``\\s``): :func:`fingerprint` applies
them in Python, :func:`sql_fingerprint` builds the same masking as one SQL expression, so the
``error_patterns`` asset computes fingerprints set-based in the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from psycopg import sql

MAX_FINGERPRINT_LENGTH = 300
"""Characters kept of a fingerprint (a message longer than that groups by its beginning)."""


@dataclass(frozen=True)
class Mask:
    """One masking rule: every match of ``pattern`` becomes ``replacement``."""

    name: str
    pattern: str
    replacement: str

    @property
    def compiled(self) -> re.Pattern[str]:
        return _compiled(self.pattern)


_NOT_WORD_BEFORE = r"(?<![A-Za-z0-9_])"
_NOT_WORD_AFTER = r"(?![A-Za-z0-9_])"
_HEX = "[0-9a-fA-F]"

MASKS: tuple[Mask, ...] = (
    Mask("space", "[ \\x01-\\x1f\\x7f\\u0080-\\u009f\\u00a0\\u2028\\u2029]+", " "),
    Mask("double_quoted", '"[^"]*"', '"<value>"'),
    Mask("single_quoted", "(?<![A-Za-z0-9])'[^']*'", "'<value>'"),
    Mask("backquoted", "`[^`]*`", "`<value>`"),
    Mask(
        "timestamp",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}"
        "(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?",
        "<time>",
    ),
    Mask("clock", "[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?", "<time>"),
    Mask("uuid", f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}", "<id>"),
    Mask("hex_literal", f"{_NOT_WORD_BEFORE}0[xX]{_HEX}+{_NOT_WORD_AFTER}", "<id>"),
    Mask(
        "hex_id",
        f"{_NOT_WORD_BEFORE}(?={_HEX}*[0-9])(?={_HEX}*[a-fA-F]){_HEX}{{8,}}{_NOT_WORD_AFTER}",
        "<id>",
    ),
    Mask(
        "long_id",
        "(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{16,}(?![A-Za-z0-9])",
        "<id>",
    ),
    Mask("number", f"(?:{_NOT_WORD_BEFORE}-)?[0-9]+(?:[.,][0-9]+)*", "<n>"),
    Mask("repeated_space", " {2,}", " "),
)
"""The rules in the order they apply; each later rule sees the output of the earlier ones."""


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def fingerprint(message: str) -> str:
    """``message`` with numbers, ids, quoted values and timestamps masked, spaces collapsed,
    trimmed and cut to :data:`MAX_FINGERPRINT_LENGTH` characters."""
    text = message
    for mask in MASKS:
        text = mask.compiled.sub(mask.replacement, text)
    return text.strip(" ")[:MAX_FINGERPRINT_LENGTH]


def sql_fingerprint(column: sql.Composable) -> tuple[sql.Composed, dict[str, str | int]]:
    """The SQL expression computing :func:`fingerprint` of ``column``, and its parameters (the
    patterns are bound values, never SQL text)."""
    expression: sql.Composable = column
    params: dict[str, str | int] = {"fingerprint_length": MAX_FINGERPRINT_LENGTH}
    for i, mask in enumerate(MASKS):
        pattern, replacement = f"mask_{i}_pattern", f"mask_{i}_replacement"
        expression = sql.SQL("regexp_replace({}, {}::text, {}::text, 'g')").format(
            expression, sql.Placeholder(pattern), sql.Placeholder(replacement)
        )
        params[pattern] = mask.pattern
        params[replacement] = mask.replacement
    composed = sql.SQL("left(btrim({}, ' '), {})").format(expression, sql.Placeholder("fingerprint_length"))
    return composed, params
