"""Making untrusted text inert inside generated markdown.

Customer, product and system names come from upstream systems; a name like ``<script>`` or
``**ACME**`` must print as itself, never as markup. Jinja2 has no markdown autoescape, so the
report environments pass every ``{{ }}`` value through :func:`md_escape` via ``finalize``,
except values already marked :class:`MarkdownSafe` by the project's own filters.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import jinja2

_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>|~&!{}])")
_FENCE = re.compile(r"`{3,}")
_LINE_START_SPECIALS = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])")
# Text md_escape leaves as it is: words of no special character, single spaces between them,
# no line-start special (checked in C; most names and ids take this path).
_PLAIN_TEXT = re.compile(r"(?![#+\-=>]|\d+[.)])[^\s\\`*_\[\]<>|~&!{}]+(?: [^\s\\`*_\[\]<>|~&!{}]+)*")
_LINK_SAFE = ":/?&=#%@+,;~!$'*-._"
# A link destination urllib.parse.quote(value, safe=_LINK_SAFE) leaves as it is.
_PLAIN_LINK = re.compile(r"[A-Za-z0-9" + re.escape(_LINK_SAFE) + r"]*")


class MarkdownSafe(str):
    """Text produced by the project's own formatting: emitted as is."""


def md_escape(value: Any) -> str:
    """Backslash-escape markdown/HTML syntax and flatten newlines so text stays one inline run."""
    text = str(value) if value is not None else ""
    if _PLAIN_TEXT.fullmatch(text):
        return text
    text = " ".join(text.split())
    text = _INLINE_SPECIALS.sub(r"\\\1", text)
    return _LINE_START_SPECIALS.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def finalize(value: Any) -> str:
    if isinstance(value, MarkdownSafe):
        return value
    return md_escape(value)


def link_target(value: str) -> MarkdownSafe:
    """A link destination that cannot break out of ``(...)``: spaces, parentheses, ``<>``,
    ``[]``, ``|`` and backslashes are percent-encoded (a plain URL stays as it is)."""
    if _PLAIN_LINK.fullmatch(value):
        return MarkdownSafe(value)
    return MarkdownSafe(urllib.parse.quote(value, safe=_LINK_SAFE))


def code_block_safe(text: str) -> MarkdownSafe:
    """Text for a fenced code block: only a fence could break out, so neutralise fences."""
    if "```" not in text:  # no fence (nearly always): skip the regex
        return MarkdownSafe(text)
    return MarkdownSafe(_FENCE.sub(lambda m: "\u200b".join(m.group(0)), text))


def markdown_environment(package: str, filters: dict[str, Callable[..., Any]]) -> jinja2.Environment:
    """A Jinja2 environment for markdown templates in ``<package>/templates``: every value is
    escaped unless marked :class:`MarkdownSafe`; undefined names fail loudly."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=False,  # markdown, not HTML: values are escaped by ``finalize`` instead
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the package: no stat() per include
    )
    env.filters.update(filters)
    return env
