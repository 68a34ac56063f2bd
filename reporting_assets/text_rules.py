"""Rules for names people type: display names, pipeline names, report and schedule names.

A name ends up in a terminal (``customers list``), in markdown reports and in HTML emails. A
control character there can clear a screen, ring a bell or split a line, so names never hold
one (Unicode category Cc, plus the line and paragraph separators U+2028 and U+2029).
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL_RANGES = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
"""Category Cc (C0, DEL and C1: fixed by Unicode) and the two separators, as escapes that
Python's ``re``, Rust's ``regex`` crate (pydantic-core) and JSON Schema read alike."""
_CONTROL = re.compile(f"[{_CONTROL_RANGES}]")
WITHOUT_CONTROL_CHARACTERS = f"^[^{_CONTROL_RANGES}]*$"
"""The rule as a pydantic ``pattern``: contract names are checked in pydantic-core, with no Python
call per string. Only for Rust's engine, pydantic's default: its ``$`` is the end of the text,
where Python's ``re`` would also match before a final line feed."""


def control_character_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be used as ``what`` (it holds a control character), or None."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "control character")
    return (
        f"The {what} holds the control character U+{ord(char):04X} ({name}) at position "
        f"{found.start() + 1}; control characters (line breaks, tabs, escape sequences) are not "
        f"allowed in names. Remove it and try again."
    )


def refuse_control_characters(value: str, what: str, error: type[Exception] = ValueError) -> str:
    """``value`` unchanged, or ``error`` naming the first control character and its position."""
    problem = control_character_problem(value, what)
    if problem:
        raise error(problem)
    return value


_CONTROL_NAMES = {
    "\x00": "NULL",
    "\x07": "BELL",
    "\x08": "BACKSPACE",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}
