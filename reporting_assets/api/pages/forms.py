"""A submitted form, read one way by every page: a field's text (trimmed or as typed), a
checkbox, the values of a repeated field and the numbered rows (``agg.0.fn``) of a table of
controls."""

from __future__ import annotations

import re
from collections.abc import Sequence

_ROW = re.compile(r"^([a-z]+)\.(\d{1,3})\.([a-z0-9]+)$")


class Form:
    """The fields in the order sent; a name sent twice reads as its last value, except through
    :meth:`all` and :meth:`rows`."""

    def __init__(self, fields: Sequence[tuple[str, str]]) -> None:
        self.fields = list(fields)
        self._last = dict(self.fields)

    def text(self, name: str, default: str = "") -> str:
        """The value without surrounding whitespace."""
        return self._last.get(name, default).strip()

    def raw(self, name: str, default: str = "") -> str:
        """The value exactly as typed (a recipients list, a token)."""
        return self._last.get(name, default)

    def checked(self, name: str) -> bool:
        """Whether the checkbox ``name`` (value ``1``) was ticked."""
        return self._last.get(name) == "1"

    def all(self, name: str) -> list[str]:
        """Every value of a repeated field (ticked checkboxes of one name)."""
        return [value for key, value in self.fields if key == name]

    def rows(self, prefix: str) -> list[dict[str, str]]:
        """The rows ``prefix.N.part`` in the order of N, each part's value trimmed."""
        found: dict[int, dict[str, str]] = {}
        for name, value in self.fields:
            match = _ROW.match(name)
            if match and match.group(1) == prefix:
                found.setdefault(int(match.group(2)), {})[match.group(3)] = value.strip()
        return [found[i] for i in sorted(found)]
