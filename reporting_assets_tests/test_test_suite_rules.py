"""Rules for the test suite itself, checked on its source: test modules share code only through
``conftest.py`` and ``support/``, helper modules are not named ``test_*``, every
``pytest.raises`` says which message it expects, and every test asserts something."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS_ROOT = Path(__file__).resolve().parent
PACKAGE = TESTS_ROOT.name
ASSERTING_PREFIXES = ("assert_", "check_")
"""A call to a helper with one of these names counts as the test's assertion."""
EXPECTING = {"raises", "warns"}
"""``pytest.raises`` / ``pytest.warns``: the test asserts that the block raises or warns."""


@dataclass(frozen=True)
class Source:
    path: Path
    tree: ast.Module

    @property
    def name(self) -> str:
        return self.path.relative_to(TESTS_ROOT).as_posix()


def sources() -> list[Source]:
    return [
        Source(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for path in sorted(TESTS_ROOT.rglob("*.py"))
        if "data" not in path.relative_to(TESTS_ROOT).parts
    ]


def is_test_module(path: Path) -> bool:
    return path.name.startswith("test_") and path.suffix == ".py"


def imported_modules(source: Source) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import, relative ones resolved against the tests package."""
    package_parts = [PACKAGE, *source.path.relative_to(TESTS_ROOT).parent.parts]
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package_parts[: len(package_parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # from package import test_x
                yield node.lineno, f"{module}.{alias.name}"


def forbidden_import(module: str) -> bool:
    """A test module or conftest of this package: code to share belongs in support/ or conftest."""
    parts = module.split(".")
    return (
        parts[0] == PACKAGE and len(parts) > 1 and (parts[-1].startswith("test_") or parts[-1] == "conftest")
    )


def collected_tests(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """What pytest collects: module-level ``test_*`` functions and ``test_*`` methods of ``Test*``
    classes."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
            yield node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test_"):
                    yield item


def called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def is_pytest_call(call: ast.Call, names: set[str]) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in names
        and isinstance(func.value, ast.Name)
        and func.value.id == "pytest"
    )


def asserts_something(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call) and (
            is_pytest_call(node, EXPECTING) or called_name(node).startswith(ASSERTING_PREFIXES)
        ):
            return True
    return False


def raises_without_match(tree: ast.Module) -> Iterator[int]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and is_pytest_call(node, {"raises"})
            and not any(keyword.arg == "match" for keyword in node.keywords)
        ):
            yield node.lineno


# --- the rules --------------------------------------------------------------------------------------


def test_no_module_imports_a_test_module_or_conftest() -> None:
    found = [
        f"{source.name}:{line} imports {module}"
        for source in sources()
        for line, module in imported_modules(source)
        if forbidden_import(module)
    ]
    assert found == [], "move shared code to conftest.py or support/:\n" + "\n".join(found)


def test_every_test_module_has_tests_and_helper_modules_are_not_named_test() -> None:
    helpers = [
        source.name
        for source in sources()
        if is_test_module(source.path) and not any(True for _ in collected_tests(source.tree))
    ]
    assert helpers == [], "modules without tests must not be named test_*: " + ", ".join(helpers)


def test_every_pytest_raises_names_the_message_it_expects() -> None:
    found = [f"{source.name}:{line}" for source in sources() for line in raises_without_match(source.tree)]
    assert found == [], "pytest.raises without match=:\n" + "\n".join(found)


def test_every_test_asserts_something() -> None:
    found = [
        f"{source.name}:{function.lineno} {function.name}"
        for source in sources()
        if is_test_module(source.path)
        for function in collected_tests(source.tree)
        if not asserts_something(function)
    ]
    assert found == [], (
        "tests without assert, pytest.raises/warns or an assert_*/check_* helper:\n" + "\n".join(found)
    )


# --- the checker catches what it should ------------------------------------------------------------


def parsed(text: str, name: str = "test_example.py") -> Source:
    return Source(TESTS_ROOT / name, ast.parse(text))


@pytest.mark.parametrize(
    "line",
    [
        "from reporting_assets_tests.test_delivery import free_port",
        "from reporting_assets_tests import test_delivery",
        "import reporting_assets_tests.test_sync",
        "from reporting_assets_tests.conftest import wipe",
        "from .test_exports import services",
        "from . import conftest",
    ],
)
def test_the_import_rule_catches_every_spelling(line: str) -> None:
    assert any(forbidden_import(module) for _, module in imported_modules(parsed(line)))


@pytest.mark.parametrize(
    "line",
    [
        "from reporting_assets_tests.support.servers import free_port",
        "from reporting_assets_tests.helpers import QUIET",
        "from reporting_assets.exports import engine",
        "from .support import sync",
    ],
)
def test_the_import_rule_lets_shared_modules_through(line: str) -> None:
    assert not any(forbidden_import(module) for _, module in imported_modules(parsed(line)))


@pytest.mark.parametrize(
    ("body", "asserts"),
    [
        ("x = 1", False),
        ("print('looks fine')", False),
        ("assert 1", True),
        ("with pytest.raises(ValueError, match='x'):\n        int('x')", True),
        ("with pytest.warns(UserWarning, match='x'):\n        pass", True),
        ("assert_valid({})", True),
        ("helpers.check_summary({})", True),
        ("def inner():\n        assert 1\n    inner()", True),
    ],
)
def test_the_assertion_rule_tells_asserting_tests_apart(body: str, asserts: bool) -> None:
    [function] = collected_tests(parsed(f"def test_x():\n    {body}\n").tree)
    assert asserts_something(function) is asserts


def test_the_match_rule_finds_multi_line_calls_without_match() -> None:
    tree = parsed(
        "with pytest.raises(\n    ValueError,\n):\n    pass\n"
        "with pytest.raises(\n    ValueError,\n    match='bad',\n):\n    pass\n"
    ).tree
    assert list(raises_without_match(tree)) == [1]


def test_the_collected_functions_include_test_methods_of_test_classes() -> None:
    tree = parsed(
        "class TestThing:\n    def test_a(self):\n        pass\n    def helper(self):\n        pass\n"
    ).tree
    assert [f.name for f in collected_tests(tree)] == ["test_a"]
