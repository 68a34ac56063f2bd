"""Compose the daily summary email and its correction (multipart: plain text + HTML).

The summary's markdown becomes HTML with markdown-it-py (CommonMark + tables, raw HTML
disabled, so any HTML in the markdown is escaped, never passed through; links and images other
than http, https and mailto are dropped, their text kept); the HTML goes into a template file
rendered by an autoescaping Jinja2 environment, so names are escaped too. The plain-text part is
the markdown itself.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from functools import cache

import jinja2
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

from reporting_assets.delivery.recipients import Recipient
from reporting_assets.delivery.summaries import TOTAL_LABELS, Change, SummaryVersion
from reporting_assets.links import is_safe_href


def _drop_unsafe_links(state: StateCore) -> None:
    """Unwrap links, and turn images into their alt text, unless the URL is http, https or
    mailto: a ``javascript:``/``data:``/``vbscript:`` URL (however spelled) never becomes an href
    or src. Checked on the URL as it will be written into the HTML (entities decoded, normalized)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[Token] = []
        unwrapping = False  # inside a dropped link (CommonMark links do not nest)
        for token in block.children:
            if token.type == "link_open" and not is_safe_href(str(token.attrGet("href") or "")):
                unwrapping = True
                continue
            if token.type == "link_close" and unwrapping:
                unwrapping = False
                continue
            if token.type == "image" and not is_safe_href(str(token.attrGet("src") or "")):
                text = Token("text", "", 0)
                text.content = token.content
                kept.append(text)
                continue
            kept.append(token)
        block.children = kept


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    # Parse every link as a link (markdown-it would leave a refused one as literal markdown) and
    # drop the unsafe ones after parsing, keeping their text.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.core.ruler.push("drop_unsafe_links", _drop_unsafe_links)
    return md


def markdown_to_html(text: str) -> Markup:
    """CommonMark + tables as HTML; raw HTML in ``text`` comes out escaped; only http, https and
    mailto links stay links."""
    return Markup(_markdown().render(text))


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reporting_assets.delivery", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), disabled_extensions=("txt.j2",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def summary_subject(summary: SummaryVersion, *, correction: bool = False) -> str:
    """``Daily summary – PELOTON – 2025-06-17 (incomplete: missing shipping_sync)``."""
    subject = f"Daily summary – {_one_line(summary.customer_name)} – {summary.summary_date.isoformat()}"
    reason = summary.incomplete_reason()
    if reason:
        subject += f" (incomplete: {reason})"
    return f"Correction: {subject}" if correction else subject


def _envelope(subject: str, sender: str, recipient: Recipient, summary: SummaryVersion) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = Address(display_name=_one_line(recipient.display_name or ""), addr_spec=recipient.email)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Reporting-Subject"] = summary.subject_key
    message["X-Reporting-Version"] = str(summary.version)
    return message


def compose_summary(summary: SummaryVersion, recipient: Recipient, sender: str) -> EmailMessage:
    """The daily summary email for one recipient."""
    subject = summary_subject(summary)
    html = (
        environment()
        .get_template("daily_summary_email.html.j2")
        .render(
            subject=subject,
            summary=summary,
            reason=summary.incomplete_reason(),
            body=markdown_to_html(summary.combined_markdown),
        )
    )
    message = _envelope(subject, sender, recipient, summary)
    message.set_content(summary.combined_markdown)
    message.add_alternative(html, subtype="html")
    return message


def compose_correction(
    previous: SummaryVersion | None,
    current: SummaryVersion,
    changes: list[Change],
    recipient: Recipient,
    sender: str,
) -> EmailMessage:
    """The short correction for a recipient who got an earlier version (``previous``; None
    when that version is no longer on record: the email then lists the current totals)."""
    subject = summary_subject(current, correction=True)
    context = {
        "subject": subject,
        "previous": previous,
        "current": current,
        "changes": changes,
        "totals": [(label, f"{current.totals[name]:,}") for name, label in TOTAL_LABELS.items()],
    }
    env = environment()
    message = _envelope(subject, sender, recipient, current)
    message.set_content(env.get_template("summary_correction_email.txt.j2").render(context))
    message.add_alternative(
        env.get_template("summary_correction_email.html.j2").render(context), subtype="html"
    )
    return message
