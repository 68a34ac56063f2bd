"""Counting the SQL statements code sends (no tests here): Dagster's storage through SQLAlchemy's
own event hook, the project's psycopg connections through a pass-through wrapper of
``Cursor.execute``. Every statement still reaches the real database; only the count is added."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import sqlalchemy


@dataclass
class Statements:
    """Statements seen, by their first words: ``dagster`` (event and run storage), ``reporting``
    (psycopg connections to the reporting database)."""

    dagster: Counter[str] = field(default_factory=Counter)
    reporting: Counter[str] = field(default_factory=Counter)

    def clear(self) -> None:
        self.dagster.clear()
        self.reporting.clear()


def _head(statement: object) -> str:
    return " ".join(str(statement).split())[:60]


@contextmanager
def counted_statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    seen = Statements()

    def on_execute(*args: Any) -> None:
        seen.dagster[_head(args[2])] += 1  # (conn, cursor, statement, parameters, context, executemany)

    execute = psycopg.Cursor.execute

    def counted(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.reporting[_head(query if isinstance(query, str) else repr(query))] += 1
        return execute(self, query, *args, **kwargs)

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", on_execute)
    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    try:
        yield seen
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", on_execute)
