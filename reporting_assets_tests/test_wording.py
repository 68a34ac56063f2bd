"""Text users read describes the product, never the planning documents it was built from.

Every tracked text file (README, docs, code, comments, SQL, templates, benchmarks, tests) is
scanned for references readers cannot follow: numbered source documents ("seed" + a number),
task and issue numbers, the planning documents by name or path, or a developer's venv.
Pure: no database, no Dagster instance; it reads files only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# The words are assembled from pieces so that this file does not match its own patterns.
_SEED = "se" + "ed"
_FORBIDDEN = [
    rf"\b{_SEED}s? \d{{3}}",  # a numbered source document, "... 000", "...s 000 and 004"
    rf"\({_SEED}\b(?!\)s|,)",  # "(... 002)", "(... rule)"; not %(...)s nor "(..., tenant)"
    rf"\b{_SEED}'s\b",  # "the ...'s sample", "...'s structure"
    rf"\b(?:in|per|from|like|as in) the {_SEED}s?\b",
    rf"\bthe {_SEED}s? (?:shows?|describes?|says|format|keys|order|rules?|documents?)\b",
    rf"\b{_SEED} (?:format|keys|rules?|alerts|structure)\b",
    r"\bTA" + r"SK\d{3}",
    r"\bis" + r"sue #?\d+",
    r"\bdesign" + r" card\b",
    r"\.\./sh" + r"ared\b",
    r"/work/sh" + r"ared\b",
    r"\bDES" + r"IGN\.md\b",
    r"/tmp/" + r"venv\b",
]
FORBIDDEN = re.compile("|".join(f"(?:{p})" for p in _FORBIDDEN), re.IGNORECASE)

SKIPPED_SUFFIXES = (".lock",)
# Only for the pathlib walk (no git): folders that are never part of the source.
_TOOL_DIRS = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_BUILD_DIRS = {"build", "dist", "node_modules"}
_RUNTIME_DIRS = {".data", "storage", "history", "logs", "schedules", "reports"}  # project home state
_UNTRACKED_DIRS = _TOOL_DIRS | _BUILD_DIRS | _RUNTIME_DIRS


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus new (not ignored) files, or None when git or the checkout is missing."""
    git = shutil.which("git")
    if git is None:
        return None
    listed = subprocess.run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        return None
    return sorted({name for name in listed.stdout.decode("utf-8").split("\0") if name})


def _walked_files(root: Path) -> list[str]:
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _UNTRACKED_DIRS and not d.endswith(".egg-info")]
        found.extend(Path(folder, name).relative_to(root).as_posix() for name in files)
    return sorted(found)


def source_files(root: Path = REPO_ROOT) -> list[str]:
    """Repo-relative paths of the project's files: git's list, else a walk of the folder."""
    listed = _git_files(root)
    return listed if listed is not None else _walked_files(root)


def forbidden_lines(root: Path, names: list[str]) -> Iterator[str]:
    """``path:line: text`` for every line of a text file that names a planning document."""
    for name in names:
        path = root / name
        if name.endswith(SKIPPED_SUFFIXES):
            continue
        if path.is_symlink() or not path.is_file():  # sql -> reporting_assets/sql is read there
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # images and other binary files
            continue
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if FORBIDDEN.search(line):
                yield f"{name}:{number}: {line.strip()}"


def test_no_text_refers_to_planning_documents() -> None:
    names = source_files()
    assert "README.md" in names and "reporting_assets/db/migrations.py" in names, names[:20]
    hits = list(forbidden_lines(REPO_ROOT, names))
    assert not hits, (
        "Text must describe the product itself (e.g. 'the execution report format in "
        "docs/report-format.md'), not the planning documents it came from:\n" + "\n".join(hits)
    )


@pytest.mark.parametrize(
    "line",
    [
        f"per execution ({_SEED} 000's format)",
        f"Customers and lineage ({_SEED}s 000 and 004).",
        f"{_SEED.title()} 002's automation report",
        f"deleted with their report ({_SEED} rule)",
        f"Operational health ({_SEED} alerts)",
        f"demo dates, like the {_SEED}'s sample",
        f"overlap by 7 h, as in the {_SEED}.",
        f"The {_SEED} shows only two states",
        "Sync sessions (" + "TA" + "SK027)",
        "Report builder (" + "is" + "sue 7)",
        "why they differ from the " + "design" + " card",
        "The shape follows `../" + "shared/DES" + "IGN.md`",
        "/tmp/" + "venv/bin/python benchmarks/aggregate.py",
    ],
)
def test_planning_references_are_caught(line: str) -> None:
    assert FORBIDDEN.search(line), line


@pytest.mark.parametrize(
    "line",
    [
        f"{_SEED} = 1",
        f"    {_SEED}: int = Field(default=1, description='{_SEED} of the simulated failures')",
        f"self.rng = random.Random(f'{{settings.{_SEED}}}:{{{_SEED}}}')  # same {_SEED}, same faults",
        f"hashtextextended(%({_SEED})s || ':m:' || t.tenant, 1) AS a,",
        f"-- derived from hashes of ({_SEED}, tenant, day, n)",
        f'assert 0 < totals["errors"] < 16, "the {_SEED} should give a partial session"',
        'env = {**os.environ, "PYTHONHASH' + 'SEED": "12345"}',
        "see docs/report-format.md for the execution report format",
    ],
)
def test_random_seeds_and_plain_text_pass(line: str) -> None:
    assert not FORBIDDEN.search(line), line


def test_walk_without_git_finds_the_same_sources(tmp_path: Path) -> None:
    """A folder that is not a git checkout is walked with pathlib; ignored folders are skipped."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ok.md").write_text("The execution report format.\n", encoding="utf-8")
    (tmp_path / "docs" / "bad.md").write_text(f"line one\nas in the {_SEED}\n", encoding="utf-8")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "vendored.py").write_text(f"# {_SEED} 000\n", encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0\0" + f"{_SEED} 000".encode())
    assert _git_files(tmp_path) is None
    names = source_files(tmp_path)
    assert names == ["docs/bad.md", "docs/ok.md", "logo.png"]
    assert list(forbidden_lines(tmp_path, names)) == [f"docs/bad.md:2: as in the {_SEED}"]
