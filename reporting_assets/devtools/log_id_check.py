"""The log-id checker: every log statement of the project carries a unique id with its module's
prefix (see :mod:`reporting_assets.logging_ids`).

It scans every ``reporting_assets/**/*.py`` and reports two statements sharing an id, a module
that logs without a prefix in ``REGISTRY``, a logging call without an id or with another
module's prefix, and a registry that is not one 2-letter prefix per existing module. The test
suite runs it (``reporting_assets_tests/test_logging_ids.py``); by hand::

    python -m reporting_assets.devtools.log_id_check check
    python -m reporting_assets.devtools.log_id_check next reporting_assets.sync.engine
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reporting_assets import logging_ids
from reporting_assets.logging_ids import LOG_ID, PACKAGE_ROOT, REGISTRY

IMPLEMENTATION_MODULE = logging_ids.__name__
_LOGGER_NAMES = {"log", "logger", "_log", "_logger", "LOG", "LOGGER", "logging"}
_CALL_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}


@dataclass(frozen=True)
class LogCall:
    """A logging call found in the source."""

    path: str
    line: int
    module: str
    log_id: str | None


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _receiver_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_logging_call(node: ast.Call) -> bool:
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in _CALL_METHODS
        and _receiver_name(func.value) in _LOGGER_NAMES
    )


def _literal_id(node: ast.Call) -> str | None:
    func = node.func
    assert isinstance(func, ast.Attribute)
    position = 1 if func.attr == "log" else 0
    if len(node.args) > position:
        arg = node.args[position]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and LOG_ID.match(arg.value):
            return arg.value
    return None


def scan_source(source: str, module: str, path: str) -> list[LogCall]:
    """Every logging call (``log.info(...)``, ``context.log.warning(...)``, ``logging.error(...)``)
    with its literal log id, if it has one."""
    tree = ast.parse(source, filename=path)
    calls = [
        LogCall(path, node.lineno, module, _literal_id(node))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _is_logging_call(node)
    ]
    return sorted(calls, key=lambda c: c.line)


def module_name(path: Path, package_root: Path = PACKAGE_ROOT) -> str:
    relative = path.resolve().relative_to(package_root.parent)
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_sources(package_root: Path = PACKAGE_ROOT) -> dict[str, tuple[str, str]]:
    """module -> (path, text) for every ``.py`` file of the package."""
    sources = {}
    for path in sorted(package_root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        sources[module_name(path, package_root)] = (
            str(path.relative_to(package_root.parent)),
            path.read_text(encoding="utf-8"),
        )
    return sources


def check_sources(
    sources: Mapping[str, tuple[str, str]], registry: Mapping[str, str] = REGISTRY
) -> list[Problem]:
    """Problems: a registry that is not one prefix per module, two statements sharing an id
    (anywhere in the project), and in registered modules a logging call without an id or with
    another module's prefix."""
    problems: list[Problem] = []
    by_prefix: dict[str, list[str]] = {}
    for module, prefix in registry.items():
        by_prefix.setdefault(prefix, []).append(module)
        if not re.fullmatch(r"[a-z]{2}", prefix):
            problems.append(
                Problem("reporting_assets/logging_ids.py", 0, f"{module}: prefix {prefix!r} is not 2 letters")
            )
        if module not in sources:
            problems.append(
                Problem("reporting_assets/logging_ids.py", 0, f"registered module {module} does not exist")
            )
    for prefix, modules in sorted(by_prefix.items()):
        if len(modules) > 1:
            problems.append(
                Problem(
                    "reporting_assets/logging_ids.py",
                    0,
                    f"prefix {prefix!r} is shared by {', '.join(modules)}",
                )
            )
    seen: dict[str, LogCall] = {}
    scanned = {
        module: scan_source(text, module, path)
        for module, (path, text) in sources.items()
        if module != IMPLEMENTATION_MODULE  # the logger's own calls into ``logging``
    }
    all_ids = {call.log_id for calls in scanned.values() for call in calls if call.log_id is not None}
    for module, (path, _text) in sorted(sources.items()):
        module_prefix = registry.get(module)
        for call in scanned.get(module, []):
            if call.log_id is not None:
                first = seen.get(call.log_id)
                if first is not None:
                    problems.append(
                        Problem(
                            path, call.line, f"log id {call.log_id} is also used at {first.path}:{first.line}"
                        )
                    )
                else:
                    seen[call.log_id] = call
            if module_prefix is None:
                problems.append(
                    Problem(
                        path,
                        call.line,
                        f"{module} logs but has no prefix: add it to REGISTRY in "
                        "reporting_assets/logging_ids.py with an unused 2-letter prefix",
                    )
                )
                continue
            if call.log_id is None:
                problems.append(
                    Problem(
                        path,
                        call.line,
                        f"logging call without a log id: use get_logger(__name__) and pass "
                        f"'{module_prefix}-NNN' first (next free: {next_free_id(module_prefix, all_ids)})",
                    )
                )
            elif not call.log_id.startswith(module_prefix + "-"):
                problems.append(
                    Problem(
                        path,
                        call.line,
                        f"log id {call.log_id} does not use {module}'s prefix {module_prefix!r}",
                    )
                )
    return problems


def seen_ids(sources: Mapping[str, tuple[str, str]]) -> set[str]:
    return {
        call.log_id
        for module, (path, text) in sources.items()
        for call in scan_source(text, module, path)
        if call.log_id is not None
    }


def next_free_id(prefix: str, used: set[str]) -> str:
    numbers = [int(m.group(2)) for i in used if (m := LOG_ID.match(i)) and m.group(1) == prefix]
    return f"{prefix}-{max(numbers, default=0) + 1:03d}"


def check_project(package_root: Path = PACKAGE_ROOT) -> list[Problem]:
    return check_sources(project_sources(package_root))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m reporting_assets.devtools.log_id_check check`` | ``next <module>``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:
        problems = check_project()
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    if len(args) == 2 and args[0] == "next":
        prefix = REGISTRY.get(args[1])
        if prefix is None:
            print(f"{args[1]} is not in REGISTRY (reporting_assets/logging_ids.py)", file=sys.stderr)
            return 2
        print(next_free_id(prefix, seen_ids(project_sources())))
        return 0
    print("usage: python -m reporting_assets.devtools.log_id_check check | next <module>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
