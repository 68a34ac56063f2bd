"""Rules for names people type: display names, pipeline names, report and schedule names.

A name ends up in a terminal (``customers list``), in markdown reports and in HTML emails. A
control character there can clear a screen, ring a bell or split a line, so names never hold
one (Unicode category Cc, plus the line and paragraph separators U+2028 and U+2029).
"""

from __future__ import annotations

import unicodedata

_LINE_SEPARATORS = {"\u2028", "\u2029"}


def control_character_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be used as ``what`` (it holds a control character), or None."""
    for position, char in enumerate(value, start=1):
        if char in _LINE_SEPARATORS or unicodedata.category(char) == "Cc":
            name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "control character")
            return (
                f"The {what} holds the control character U+{ord(char):04X} ({name}) at position "
                f"{position}; control characters (line breaks, tabs, escape sequences) are not "
                f"allowed in names. Remove it and try again."
            )
    return None


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
