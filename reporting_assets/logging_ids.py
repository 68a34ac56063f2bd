"""Structured log ids: every log statement carries a unique ``{prefix}-{seq}`` id (``se-004``).

Why: a line in a log file, the Dagster UI or a customer's complaint then leads to exactly one
statement in the code, even when the message text is reworded or repeated elsewhere. Ids come
from a per-module registry (:data:`REGISTRY`: module -> 2-letter prefix); the sequence numbers
are literals in the code, checked by :mod:`reporting_assets.devtools.log_id_check` (unique
across the project; every logging call of a registered module has one with the module's
prefix), which also prints the next free id of a module.

Built on the standard :mod:`logging` module: :func:`get_logger` wraps ``logging.getLogger``,
so levels, handlers and filters work as usual. Verbosity is set per component (a logger name
below ``reporting_assets``, e.g. ``sync.target``) from config or the environment
(:func:`levels_from_env`, :func:`verbosity`). Handlers here write JSON lines
(:class:`JsonLinesHandler`) and forward to Dagster's ``context.log``
(:class:`DagsterForwardHandler`), each restricted to one log context (e.g. one sync session).

Usage::

    from reporting_assets.logging_ids import get_logger

    log = get_logger(__name__)                     # the module must be in REGISTRY
    log.info("se-004", "Created group %s for %s", group_id, customer, customer_key=key)
"""

from __future__ import annotations

import contextvars
import datetime as dt
import difflib
import json
import logging
import os
import re
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reporting_assets.errors import ReportingError

PROJECT_LOGGER = "reporting_assets"
PACKAGE_ROOT = Path(__file__).resolve().parent
LOG_ID = re.compile(r"^([a-z]{2})-(\d{3})$")
LEVEL_ENV = "REPORTING_LOG_LEVEL"
"""Default level of every ``reporting_assets`` logger, e.g. ``INFO``."""
LEVELS_ENV = "REPORTING_LOG_LEVELS"
"""Per-component levels, e.g. ``sync.target=DEBUG,sync.engine=WARNING``."""

REGISTRY: dict[str, str] = {
    # module -> prefix. Every module that logs is listed here, and every logging call in it
    # carries an id with its prefix (enforced by test_logging_ids.py).
    "reporting_assets.api.errors": "ap",
    "reporting_assets.automation.batch_log": "ab",
    "reporting_assets.automation.materialize": "aa",
    "reporting_assets.delivery.jobs": "dj",
    "reporting_assets.delivery.sensors": "ds",
    "reporting_assets.error_patterns.materialize": "ep",
    "reporting_assets.execution_reports.materialize": "ea",
    "reporting_assets.execution_reports.sensors": "es",
    "reporting_assets.exports.runtime": "ed",
    "reporting_assets.sync.assets": "sa",
    "reporting_assets.sync.cli": "cl",
    "reporting_assets.sync.config": "sc",
    "reporting_assets.sync.dead_runs": "sn",
    "reporting_assets.sync.engine": "se",
    "reporting_assets.sync.folders": "sf",
    "reporting_assets.sync.order_list": "so",
    "reporting_assets.sync.reports": "sr",
    "reporting_assets.sync.target": "st",
}

_LEVEL_NAMES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_NO_CONTEXT: Mapping[str, Any] = types.MappingProxyType({})
_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "reporting_log_context", default=_NO_CONTEXT
)

_project_logger = logging.getLogger(PROJECT_LOGGER)
_project_logger.addHandler(logging.NullHandler())  # never prints by itself; handlers decide where lines go
if _project_logger.level == logging.NOTSET:
    _project_logger.setLevel(logging.INFO)  # default verbosity; REPORTING_LOG_LEVEL(S) or config change it


class LoggingConfigError(ReportingError):
    """A log level or component name in the config or the environment is not valid."""


class IdLogger:
    """A standard ``logging.Logger`` whose every call takes a log id first.

    Thin on purpose: the id, the call's keyword fields and the current log context travel as
    ``extra`` attributes of the ``LogRecord`` (``log_id``, ``fields``, ``context``); disabled
    levels cost one ``isEnabledFor`` check. With ``dagster_log`` (an op's or sensor's
    ``context.log``) each line also goes to the run's or tick's event log as ``[aa-001] message``.
    """

    __slots__ = ("dagster_log", "logger", "prefix")

    def __init__(self, logger: logging.Logger, prefix: str, dagster_log: Any = None) -> None:
        self.logger = logger
        self.prefix = prefix
        self.dagster_log = dagster_log

    def debug(self, log_id: str, msg: str, *args: object, **fields: Any) -> None:
        if self.logger.isEnabledFor(logging.DEBUG):
            self._emit(logging.DEBUG, log_id, msg, args, fields)

    def info(self, log_id: str, msg: str, *args: object, **fields: Any) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            self._emit(logging.INFO, log_id, msg, args, fields)

    def warning(self, log_id: str, msg: str, *args: object, **fields: Any) -> None:
        if self.logger.isEnabledFor(logging.WARNING):
            self._emit(logging.WARNING, log_id, msg, args, fields)

    def error(self, log_id: str, msg: str, *args: object, **fields: Any) -> None:
        if self.logger.isEnabledFor(logging.ERROR):
            self._emit(logging.ERROR, log_id, msg, args, fields)

    def exception(self, log_id: str, msg: str, *args: object, **fields: Any) -> None:
        """An error with the current exception's traceback."""
        if self.logger.isEnabledFor(logging.ERROR):
            self._emit(logging.ERROR, log_id, msg, args, fields, exc_info=True)

    def critical(self, log_id: str, msg: str, *args: object, **fields: Any) -> None:
        if self.logger.isEnabledFor(logging.CRITICAL):
            self._emit(logging.CRITICAL, log_id, msg, args, fields)

    def log(self, level: int, log_id: str, msg: str, *args: object, **fields: Any) -> None:
        if self.logger.isEnabledFor(level):
            self._emit(level, log_id, msg, args, fields)

    def is_enabled_for(self, level: int) -> bool:
        """For callers that would build an expensive message."""
        return self.logger.isEnabledFor(level)

    def _emit(
        self,
        level: int,
        log_id: str,
        msg: str,
        args: tuple[object, ...],
        fields: dict[str, Any],
        exc_info: bool = False,
    ) -> None:
        self.logger.log(
            level,
            msg,
            *args,
            exc_info=exc_info,
            stacklevel=3,
            extra={"log_id": log_id, "fields": fields, "context": _CONTEXT.get()},
        )
        if self.dagster_log is not None:
            self.dagster_log.log(level, f"[{log_id}] {msg % args if args else msg}")


def get_logger(module: str, dagster_log: Any = None) -> IdLogger:
    """The id-carrying logger of a registered module (pass ``__name__``).

    Inside an op, asset or sensor pass ``context.log`` as ``dagster_log``: the lines then show in
    the Dagster UI too, and the component levels from ``REPORTING_LOG_LEVEL(S)`` are applied.
    """
    prefix = REGISTRY.get(module)
    if prefix is None:
        raise LoggingConfigError(
            f"Module {module!r} has no log id prefix. Add it to REGISTRY in "
            f"reporting_assets/logging_ids.py with an unused 2-letter prefix "
            f"(used: {', '.join(sorted(REGISTRY.values()))})."
        )
    if dagster_log is not None:
        for name, level in parse_levels(levels_from_env(), "environment").items():
            logging.getLogger(name).setLevel(level)
    return IdLogger(logging.getLogger(module), prefix, dagster_log)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Fields added to every record logged inside the block (this thread/task only), e.g.
    ``sync_id`` and ``customer``; handlers use them to keep one session's lines together."""
    token = _CONTEXT.set({**_CONTEXT.get(), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


# --- formatting and handlers ---------------------------------------------------------------


def record_log_id(record: logging.LogRecord) -> str:
    """The record's log id, or ``--`` for records of loggers not using ids yet."""
    return str(getattr(record, "log_id", "--"))


def record_as_json(record: logging.LogRecord) -> dict[str, Any]:
    """One JSON-lines entry: time, level, id, logger, message, context and fields."""
    entry: dict[str, Any] = {
        "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "log_id": record_log_id(record),
        "logger": record.name,
        "message": record.getMessage(),
    }
    entry.update(getattr(record, "context", {}) or {})
    fields = getattr(record, "fields", None)
    if fields:
        entry["fields"] = fields
    if record.exc_info and record.exc_info[1] is not None:
        entry["exception"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    return entry


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_as_json(record), ensure_ascii=False, default=str)


class IdFormatter(logging.Formatter):
    """``HH:MM:SS se-004 message`` for terminals."""

    def __init__(self, with_time: bool = True) -> None:
        super().__init__()
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record_log_id(record)} {record.getMessage()}"
        if self.with_time:
            text = f"{dt.datetime.fromtimestamp(record.created, dt.UTC):%H:%M:%S} {text}"
        return text


class ContextFilter(logging.Filter):
    """Passes only records logged inside a matching :func:`log_context` (e.g. one sync id)."""

    def __init__(self, **match: Any) -> None:
        super().__init__()
        self.match = match

    def filter(self, record: logging.LogRecord) -> bool:
        context = getattr(record, "context", None) or {}
        return all(context.get(k) == v for k, v in self.match.items())


class JsonLinesHandler(logging.Handler):
    """Appends JSON lines to a file. Write errors are kept (``self.error``), not raised, so a
    full disk never breaks the work being logged; the caller reports it."""

    def __init__(self, path: Path, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.path = path
        self.error: OSError | None = None
        self.setFormatter(JsonLinesFormatter())
        self._stream: Any = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.error is not None:
            return
        try:
            if self._stream is None:
                self._stream = self.path.open("a", encoding="utf-8")
            self._stream.write(self.format(record) + "\n")
        except OSError as exc:
            self.error = exc

    def flush(self) -> None:
        if self._stream is not None and self.error is None:
            try:
                self._stream.flush()
            except OSError as exc:
                self.error = exc

    def close(self) -> None:
        self.flush()
        if self._stream is not None:
            try:
                self._stream.close()
            except OSError as exc:
                self.error = self.error or exc
            self._stream = None
        super().close()


class DagsterForwardHandler(logging.Handler):
    """Forwards records to Dagster's ``context.log`` as ``[se-004] message`` (shown in the UI)."""

    def __init__(self, dagster_log: Any, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.dagster_log = dagster_log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.dagster_log.log(record.levelno, f"[{record_log_id(record)}] {record.getMessage()}")
        except Exception:  # the run's own logging must never break the work
            self.handleError(record)


@contextmanager
def attached(handler: logging.Handler, logger_name: str = PROJECT_LOGGER) -> Iterator[logging.Handler]:
    """Attach a handler to a logger (default: the whole project) for the block's duration."""
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        handler.close()


# --- verbosity per component ---------------------------------------------------------------


def _level(value: str, where: str) -> int:
    name = value.strip().upper()
    if name not in _LEVEL_NAMES:
        raise LoggingConfigError(
            f"{where}: {value!r} is not a log level; use one of {', '.join(_LEVEL_NAMES)}."
        )
    return int(logging.getLevelName(name))


def known_components() -> list[str]:
    """Component names: every registered module and package below ``reporting_assets``."""
    names: set[str] = set()
    for module in REGISTRY:
        parts = module.split(".")[1:]
        names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(names)


def component_logger_name(component: str, where: str = "log levels") -> str:
    component = component.strip()
    if component in ("", PROJECT_LOGGER, "*"):
        return PROJECT_LOGGER
    name = component.removeprefix(PROJECT_LOGGER + ".")
    known = known_components()
    if (
        name not in known
        and not (PACKAGE_ROOT / name.replace(".", "/")).exists()
        and not (PACKAGE_ROOT / (name.replace(".", "/") + ".py")).exists()
    ):
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise LoggingConfigError(
            f"{where}: unknown component {component!r}.{hint} Components are module paths below "
            f"reporting_assets, e.g. {', '.join(known[:4])}."
        )
    return f"{PROJECT_LOGGER}.{name}"


def parse_levels(levels: Mapping[str, str], where: str = "log levels") -> dict[str, int]:
    """``{"sync.target": "DEBUG"}`` -> ``{"reporting_assets.sync.target": 10}``, validated."""
    return {
        component_logger_name(component, where): _level(level, f"{where} [{component}]")
        for component, level in levels.items()
    }


def levels_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Levels from ``REPORTING_LOG_LEVEL`` (whole project) and ``REPORTING_LOG_LEVELS``
    (``component=LEVEL,...``); the environment wins over config files."""
    env = os.environ if environ is None else environ
    levels: dict[str, str] = {}
    if env.get(LEVEL_ENV, "").strip():
        levels[PROJECT_LOGGER] = env[LEVEL_ENV].strip()
    for part in env.get(LEVELS_ENV, "").split(","):
        if not part.strip():
            continue
        component, sep, level = part.partition("=")
        if not sep:
            raise LoggingConfigError(
                f"{LEVELS_ENV}: {part.strip()!r} is not component=LEVEL, e.g. sync.target=DEBUG."
            )
        levels[component.strip()] = level.strip()
    return levels


@contextmanager
def verbosity(levels: Mapping[str, str], where: str = "log levels") -> Iterator[dict[str, int]]:
    """Set component levels for the block and restore the previous ones afterwards.

    Levels are process-wide (that is how ``logging`` works); restoring them keeps one session's
    settings from leaking into the next.
    """
    parsed = parse_levels(levels, where)
    previous = {name: logging.getLogger(name).level for name in parsed}
    for name, level in sorted(parsed.items()):  # packages before their modules
        logging.getLogger(name).setLevel(level)
    try:
        yield parsed
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)
