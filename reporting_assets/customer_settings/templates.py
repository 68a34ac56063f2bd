"""A customer's extra markdown blocks: ``templates/customers/<key>/header.md.j2`` and
``footer.md.j2`` in the project home.

They are rendered in Jinja2's sandbox (no attribute starting with ``_``, no unsafe calls) with a
loader that serves only files inside the customer's folder, and every value is markdown-escaped
like the report's own. They are checked when settings are set; a block that still fails when a
report renders (the file changed, the data differs) is left out, so that report shows the
default format there, and the failure is returned as a warning: it never fails the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from reporting_assets.customer_settings.model import CustomerSettingsError, TemplateBlocks
from reporting_assets.markdown_text import MarkdownSafe, finalize

TEMPLATES_DIR = Path("templates", "customers")
BLOCK_FILES = {"header": "header.md.j2", "footer": "footer.md.j2"}


def template_folder(home: Path, customer_key: str) -> Path:
    return home / TEMPLATES_DIR / customer_key


def read_blocks(home: Path, customer_key: str) -> TemplateBlocks:
    """The customer's template sources (a missing file: no such block)."""
    folder = template_folder(home, customer_key)
    sources: dict[str, str | None] = {}
    for block, name in BLOCK_FILES.items():
        path = folder / name
        try:
            sources[block] = path.read_text(encoding="utf-8") if path.is_file() else None
        except (OSError, UnicodeDecodeError) as exc:
            raise CustomerSettingsError(f"Cannot read the customer template {path}: {exc}.") from exc
    return TemplateBlocks(str(folder), sources["header"], sources["footer"])


class FolderLoader(jinja2.FileSystemLoader):
    """Only files inside one folder, also through symbolic links: ``..`` and absolute names are
    refused by Jinja2, a link that leads outside is refused here."""

    def __init__(self, folder: str) -> None:
        super().__init__(folder, followlinks=False)
        self.root = Path(folder).resolve()

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        source, filename, uptodate = super().get_source(environment, template)
        if not Path(filename).resolve().is_relative_to(self.root):
            raise jinja2.TemplateNotFound(template)
        return source, filename, uptodate


@lru_cache(maxsize=64)
def sandbox(folder: str) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FolderLoader(folder),
        autoescape=False,  # markdown: values are escaped by ``finalize``
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


@dataclass(frozen=True)
class _Compiled:
    template: jinja2.Template
    reads: tuple[str, ...] | None
    """The context names the output depends on, when that is all it depends on (no includes, no
    globals, no ``random``): its output is then rendered once per distinct values of these."""


@lru_cache(maxsize=256)
def _compiled(folder: str, source: str) -> _Compiled:
    environment = sandbox(folder)
    template = environment.from_string(source)
    tree = environment.parse(source)
    names = meta.find_undeclared_variables(tree)
    self_contained = (
        names <= CONTEXT_NAMES
        and not any(True for _ in meta.find_referenced_templates(tree))
        and not any(f.name == "random" for f in tree.find_all(nodes.Filter))
    )
    return _Compiled(template, tuple(sorted(names)) if self_contained else None)


_RENDERED_MAX = 4096
_rendered: dict[tuple[Any, ...], MarkdownSafe] = {}
"""Outputs of self-contained blocks by (folder, source, the values they read): a batch renders
a customer's header for each of its reports, and most see the same customer, day and pipeline."""


@dataclass(frozen=True)
class Blocks:
    header: MarkdownSafe | None
    footer: MarkdownSafe | None
    warnings: tuple[str, ...]


def block_context(
    *,
    customer: str,
    customer_key: str,
    day: str,
    pipeline: str,
    pipeline_title: str,
    status: str,
    run_id: str | None,
    counts: dict[str, int],
) -> dict[str, Any]:
    """What a customer template can use: plain values only (no project objects)."""
    return {
        "customer": customer,
        "customer_key": customer_key,
        "date": day,
        "pipeline": pipeline,
        "pipeline_title": pipeline_title,
        "status": status,
        "run_id": run_id or "",
        "counts": dict(counts),
    }


SAMPLE_CONTEXT = block_context(
    customer="Sample Customer",
    customer_key="SAMPLE",
    day=dt.date(2025, 6, 17).isoformat(),
    pipeline="order_sync",
    pipeline_title="Order Sync",
    status="success",
    run_id="00000000-0000-0000-0000-000000000000",
    counts={"records_processed": 1247, "new": 12, "updated": 3, "failed": 0},
)
CONTEXT_NAMES = frozenset(SAMPLE_CONTEXT)


def _render(blocks: TemplateBlocks, source: str, context: dict[str, Any]) -> MarkdownSafe:
    """The block's markdown; a failure raises (it is not remembered: each report retries)."""
    compiled = _compiled(blocks.folder, source)
    if compiled.reads is None:
        return MarkdownSafe(compiled.template.render(context).strip("\n"))
    key = (blocks.folder, source, *(_hashable(context[name]) for name in compiled.reads))
    text = _rendered.get(key)
    if text is None:
        text = MarkdownSafe(compiled.template.render(context).strip("\n"))
        if len(_rendered) >= _RENDERED_MAX:
            _rendered.clear()
        _rendered[key] = text
    return text


def _hashable(value: Any) -> Any:
    return tuple(value.items()) if isinstance(value, dict) else value


def _problem(blocks: TemplateBlocks, block: str, exc: Exception) -> str:
    path = Path(blocks.folder, BLOCK_FILES[block])
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{path} does not compile: {exc.message} (line {exc.lineno})"
    if isinstance(exc, SecurityError):
        return f"{path} tries to reach Python internals, which the template sandbox refuses: {exc}"
    if isinstance(exc, jinja2.TemplateNotFound):
        return (
            f"{path} includes {exc.name!r}, which is not a file inside its folder {blocks.folder} "
            f"(customer templates may only include files next to them)"
        )
    return f"{path} fails when rendered: {type(exc).__name__}: {exc}"


def _present(blocks: TemplateBlocks) -> Iterator[tuple[str, str]]:
    """(block, template source) of each block the customer has."""
    for block in BLOCK_FILES:
        source = getattr(blocks, block)
        if source is not None:
            yield block, source


def check_blocks(blocks: TemplateBlocks) -> list[str]:
    """Compile and try each block on sample values; an error naming the template when one fails."""
    checked = []
    for block, source in _present(blocks):
        try:
            _render(blocks, source, SAMPLE_CONTEXT)
        except Exception as exc:  # any failure of a customer's template is reported, named
            raise CustomerSettingsError(
                _problem(blocks, block, exc) + ". Fix the template and run `settings set` again."
            ) from exc
        checked.append(str(Path(blocks.folder, BLOCK_FILES[block])))
    return checked


def compile_blocks(blocks: TemplateBlocks | None) -> None:
    """Compile the customer's blocks in this process now: forked render workers inherit them
    instead of each compiling them. A block that fails is left to :func:`render_blocks`, which
    reports it with each report."""
    if blocks is None:
        return
    for _, source in _present(blocks):
        try:
            _compiled(blocks.folder, source)
        except Exception:  # any failure of a customer's template: render_blocks reports it
            continue


def render_blocks(blocks: TemplateBlocks | None, context: dict[str, Any]) -> Blocks:
    """The customer's header and footer for one report; a block that fails is left out (the
    default format) and its failure returned as a warning."""
    if blocks is None:
        return Blocks(None, None, ())
    rendered: dict[str, MarkdownSafe | None] = {"header": None, "footer": None}
    warnings = []
    for block, source in _present(blocks):
        try:
            rendered[block] = _render(blocks, source, context) or None
        except Exception as exc:  # a customer's template never fails the report
            warnings.append(_problem(blocks, block, exc) + "; the report shows the default format there")
    return Blocks(rendered["header"], rendered["footer"], tuple(warnings))
